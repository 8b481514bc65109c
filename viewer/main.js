// neuroglancer's default viewer, its state read from the URL fragment (`#!{json}`) that `slabchunk view` prints;
// it sets `window.viewer`, which the browser test drives.
import 'neuroglancer/unstable/main.bundle.js';
