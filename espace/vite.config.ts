// Builds the web space into ESPACE_OUT_DIR (build/espace, served by the gateway under
// /espace/). No inline script or style is emitted: the gateway's CSP forbids them.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/espace/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  resolve: {
    alias: { react: 'preact/compat', 'react-dom': 'preact/compat' },
  },
  build: {
    outDir: process.env.ESPACE_OUT_DIR || 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
