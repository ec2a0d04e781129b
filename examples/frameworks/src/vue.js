// Vue: a reactive() object synced by tabsync/vue.
import { createApp, reactive } from 'vue';
import { syncReactive } from 'tabsync/vue';
import { initialState, syncConfig, syncPanel } from './shared.js';
import { view } from './vue-view.js';

const state = reactive(initialState());
window.state = state;
const sync = syncReactive(state, syncConfig('vue'));

createApp({ render: () => view(state) }).mount('#app');
syncPanel(sync);
