// Copies non-TypeScript runtime assets (Lua scripts, templates) next to the compiled code.
const fs = require('node:fs');
const path = require('node:path');

const pairs = [
  ['src/store/lua', 'dist/store/lua'],
  ['src/users/lua', 'dist/users/lua'],
  ['src/plugin/views', 'dist/plugin/views'],
  ['src/plugin/public', 'dist/plugin/public'],
];
for (const [from, to] of pairs) {
  if (fs.existsSync(from)) fs.cpSync(from, to, { recursive: true });
}
