import { it } from 'vitest';
import fc from 'fast-check';
import { commandText, messageText, registry } from '/work/main/test/fuzz-arbitraries.js';
import { collectArgs, findCommand, splitCommand, validateArgs } from '/work/main/bot/parse.js';
const NOW = new Date('2026-11-20T09:30:00+08:00');
function p(text: string) { const s = splitCommand(text, true, registry); if (!s) return; try { const c = findCommand(registry, s.word); validateArgs(c, collectArgs(c, s.body), NOW, 'Asia/Shanghai'); } catch {} }
it('prof', () => {
  for (const [name, arb] of [['cmd', commandText()], ['msg', messageText]] as const) {
    const xs = fc.sample(arb, { numRuns: 5000, seed: 1 });
    let t = performance.now(); for (const x of xs) p(x); console.log(name, 'parse', (performance.now() - t).toFixed(0), 'ms');
    t = performance.now(); fc.sample(arb, { numRuns: 5000, seed: 2 }); console.log(name, 'gen', (performance.now() - t).toFixed(0), 'ms');
    const big = xs.filter((x) => x.length > 1000); t = performance.now(); for (const x of big) p(x); console.log(name, 'big', big.length, (performance.now() - t).toFixed(0));
  }
});
