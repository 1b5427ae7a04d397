// SvelteKit lives in dashboard/ (the design card's layout); the Node adapter gives the `web` process.
import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ out: 'build' }),
    // Content-Security-Policy on every page: scripts only from this server (SvelteKit puts a nonce on
    // its own inline bootstrap), no plugins, no framing by other sites, forms only back to us. Styles
    // allow inline: Svelte's style: directives and ECharts' tooltips set style attributes. A page that
    // shows personal data should not run a script somebody managed to inject. 'unsafe-eval' only because
    // echarts-gl's renderer (claygl) compiles its compositor's size expressions with new Function —
    // without it the 3D map never draws; injected <script> elements and inline handlers stay blocked.
    csp: {
      mode: 'auto',
      directives: {
        'default-src': ['self'],
        'script-src': ['self', 'unsafe-eval'],
        'style-src': ['self', 'unsafe-inline'],
        'img-src': ['self', 'data:', 'blob:'],
        'font-src': ['self', 'data:'],
        'connect-src': ['self'],
        'worker-src': ['self', 'blob:'],
        'object-src': ['none'],
        'base-uri': ['self'],
        'form-action': ['self'],
        'frame-ancestors': ['self']
      }
    },
    files: {
      assets: 'dashboard/static',
      hooks: { client: 'dashboard/hooks.client', server: 'dashboard/hooks.server', universal: 'dashboard/hooks' },
      lib: 'dashboard/lib',
      params: 'dashboard/params',
      routes: 'dashboard/routes',
      serviceWorker: 'dashboard/service-worker',
      appTemplate: 'dashboard/app.html',
      errorTemplate: 'dashboard/error.html'
    }
  }
};
