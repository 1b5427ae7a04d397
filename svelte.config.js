// SvelteKit lives in dashboard/ (the design card's layout); the Node adapter gives the `web` process.
import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ out: 'build' }),
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
