// The counter and todo list as a Vue render function (no SFC compiler
// needed), for the Vue and Pinia demos: s is the reactive state.
import { h } from 'vue';
import { newTodo } from './shared.js';

export const view = (s) =>
  h('div', [
    h('p', ['Count: ', h('strong', { id: 'count' }, String(s.count)), ' ', h('button', { id: 'inc', onClick: () => s.count++ }, '+1')]),
    h('p', [
      h('input', { id: 'draft', placeholder: 'New todo (stays in this tab)', value: s.draft, onInput: (e) => (s.draft = e.target.value) }),
      ' ',
      h('button', { id: 'add', onClick: () => s.todos.push(newTodo(s.draft)) }, 'Add'),
    ]),
    h(
      'ul',
      { id: 'todos' },
      s.todos.map((t, i) =>
        h('li', { key: i, class: t.done ? 'done' : '' }, [
          h('label', [h('input', { type: 'checkbox', checked: t.done, onChange: () => (t.done = !t.done) }), ' ', t.text]),
        ]),
      ),
    ),
  ]);
