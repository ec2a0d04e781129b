// The counter and todo list as a React component, for the Redux, Valtio and
// Jotai demos: each passes the state and its actions.
import { createElement as h, useState } from 'react';

export function Demo({ count, todos, draft, inc, setDraft, add, toggle }) {
  return h(
    'div',
    null,
    h('p', null, 'Count: ', h('strong', { id: 'count' }, String(count)), ' ', h('button', { id: 'inc', onClick: inc }, '+1')),
    h(
      'p',
      null,
      h('input', { id: 'draft', placeholder: 'New todo (stays in this tab)', value: draft, onChange: (e) => setDraft(e.target.value) }),
      ' ',
      h('button', { id: 'add', onClick: add }, 'Add'),
    ),
    h(
      'ul',
      { id: 'todos' },
      todos.map((t, i) =>
        h(
          'li',
          { key: i, className: t.done ? 'done' : '' },
          h('label', null, h('input', { type: 'checkbox', checked: t.done, onChange: () => toggle(i) }), ' ', t.text),
        ),
      ),
    ),
  );
}

export { h, useState };
