// Pinia: an option store and a setup store, both opting in with `sync`;
// the plugin gives each a channel of its own (<channel>-pinia:<store id>).
import { createApp, h, ref } from 'vue';
import { createPinia, defineStore } from 'pinia';
import { tabsyncPlugin } from 'tabsync/pinia';
import { initialState, syncConfig, syncPanel } from './shared.js';
import { view } from './vue-view.js';

const { channelName, ...defaults } = syncConfig('pinia');
const pinia = createPinia();
pinia.use(tabsyncPlugin({ ...defaults, channelPrefix: `${channelName}-` }));

const useDemo = defineStore('demo', { state: initialState, sync: true });
const useTheme = defineStore(
  'theme',
  () => {
    const theme = ref('light');
    const toggle = () => (theme.value = theme.value === 'light' ? 'dark' : 'light');
    return { theme, toggle };
  },
  { sync: true },
);

const app = createApp({
  render() {
    const demo = useDemo();
    const theme = useTheme();
    return h('div', [
      view(demo),
      h('p', ['Theme: ', h('strong', { id: 'theme' }, theme.theme), ' ', h('button', { id: 'toggle-theme', onClick: theme.toggle }, 'Toggle')]),
    ]);
  },
});
app.use(pinia).mount('#app');
const demo = useDemo();
const theme = useTheme();
window.stores = { demo, theme };
syncPanel(demo.$tabsync, theme.$tabsync);
