/**
 * Builds neuroglancer's viewer into dist/viewer/ for `slabchunk view` (`npm run build:viewer`). Vite 5: Vite 8
 * inlines the chunk worker as a data: URL, and the viewer then loads no data.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/**
 * The registry's `ikonate` (which the `overrides` entry in package.json installs for neuroglancer's GitHub pin)
 * lacks a few icons neuroglancer imports: each becomes the nearest icon that exists, or a blank one.
 */
function ikonateStubs(): Plugin {
  const icons = path.join(path.dirname(require.resolve('ikonate/package.json')), 'icons');
  const nearest: Record<string, string> = { 'code-alt': 'code', 'controls-alt': 'controls', layers: 'stack' };
  const blank = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"></svg>';
  return {
    name: 'slabchunk:ikonate-stubs',
    enforce: 'pre',
    resolveId(id) {
      const match = /^ikonate\/icons\/([\w-]+)\.svg\?raw$/.exec(id);
      if (!match || fs.existsSync(path.join(icons, `${match[1]}.svg`))) return null;
      return `\0ikonate-stub:${match[1]}`;
    },
    load(id) {
      if (!id.startsWith('\0ikonate-stub:')) return null;
      const substitute = path.join(icons, `${nearest[id.slice('\0ikonate-stub:'.length)] ?? ''}.svg`);
      const svg = fs.existsSync(substitute) ? fs.readFileSync(substitute, 'utf8') : blank;
      return `export default ${JSON.stringify(svg)};`;
    },
  };
}

export default defineConfig({
  root: here,
  // Relative asset URLs: the server mounts the viewer under a prefix (/viewer/).
  base: './',
  logLevel: 'warn',
  plugins: [ikonateStubs()],
  resolve: {
    // Only the Zarr datasource over HTTP: every other datasource and kvstore stays out of the bundle.
    conditions: [
      'neuroglancer/datasource:none_by_default',
      'neuroglancer/datasource/zarr:enabled',
      'neuroglancer/kvstore:none_by_default',
      'neuroglancer/kvstore/http:enabled',
    ],
  },
  worker: { format: 'es' },
  build: {
    outDir: path.join(here, '..', 'dist', 'viewer'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    reportCompressedSize: false,
  },
});
