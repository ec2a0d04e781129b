//go:build js && wasm

package tablebridge

import (
	"syscall/js"

	"github.com/tabsync/tabsync/tableproto"
	"github.com/tabsync/tabsync/tables"
)

// dial opens the browser's WebSocket to the server; its events step the
// engine (Connected, Receive, Disconnected) until closeSocket, after which
// they are ignored.
func (s *instance) dial() {
	s.closeSocket()
	var ws js.Value
	func() {
		defer func() {
			if r := recover(); r != nil {
				ws = js.Undefined() // a malformed URL throws
			}
		}()
		ws = js.Global().Get("WebSocket").New(s.serverURL)
	}()
	if ws.IsUndefined() {
		s.handleReady(s.e.Disconnected(now(), "cannot open a WebSocket to "+s.serverURL), nil)
		return
	}
	s.ws = ws
	on := func(name string, f func(ev js.Value)) {
		fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
			if !s.ws.Equal(ws) || s.stopped {
				return nil
			}
			f(args[0])
			return nil
		})
		s.wsFuncs = append(s.wsFuncs, wsListener{name, fn})
		ws.Call("addEventListener", name, fn)
	}
	on("open", func(js.Value) { s.wsOpen = true; s.handleReady(s.e.Connected(now()), nil) })
	// The messages come through the export (opMessage): the wrapper's
	// listener writes the text into the inbox, no js.FuncOf on the path.
	s.sock++
	s.wsMessage = s.hooks.Call("listen", ws, s.id, s.sock)
	on("close", func(ev js.Value) {
		reason := "the connection closed"
		if c := ev.Get("code"); c.Type() == js.TypeNumber && c.Int() != 1000 {
			reason += " (code " + js.Global().Get("String").Invoke(c).String() + ")"
		}
		s.dropSocket()
		s.handleReady(s.e.Disconnected(now(), reason), nil)
	})
}

// received is a message of the server on socket sock (its text, or binary).
func (s *instance) received(sock int32, data string, binary bool) {
	if sock != s.sock || s.ws.IsUndefined() || s.stopped {
		return // a socket dropped since
	}
	if binary {
		s.report(tables.PhaseProtocol, "the server sent a binary message; dropped")
		return
	}
	f, notJSON, err := readFrame(data)
	if notJSON {
		s.report(tables.PhaseProtocol, "the server sent a message that is not JSON; dropped")
		return
	}
	if err != nil {
		s.report(tables.PhaseProtocol, "the server sent a malformed frame ("+err.Error()+"); dropped")
		return
	}
	s.handleReady(s.e.Receive(now(), f), nil)
}

func (s *instance) send(f tableproto.Frame) {
	if !s.wsOpen {
		return // the engine resends what matters on the next connection
	}
	at, n := textArgs(appendFrame(textBuf(), f))
	s.sendHook.Invoke(s.ws, at, n)
}

// closeSocket closes the socket (if any) and forgets it.
func (s *instance) closeSocket() {
	if s.ws.IsUndefined() {
		return
	}
	ws := s.ws
	s.dropSocket()
	ws.Call("close", 1000)
}

// dropSocket forgets the socket and releases its listeners, removing them
// first: a socket closed here still fires its close event (and messages
// already queued), which must not call a released function.
func (s *instance) dropSocket() {
	ws := s.ws
	s.ws, s.wsOpen = js.Undefined(), false
	if !ws.IsUndefined() && !s.wsMessage.IsUndefined() {
		ws.Call("removeEventListener", "message", s.wsMessage)
	}
	s.wsMessage = js.Undefined()
	for _, l := range s.wsFuncs {
		if !ws.IsUndefined() {
			ws.Call("removeEventListener", l.name, l.fn)
		}
		l.fn.Release()
	}
	s.wsFuncs = nil
}

type wsListener struct {
	name string
	fn   js.Func
}
