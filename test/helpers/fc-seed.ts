// Property tests draw from one fixed seed in the default run, so `npm test` (CI) is repeatable: a
// red run replays the same way. The long variant (POINTSMALL_LONG=1) explores new seeds each time,
// and POINTSMALL_SEED replays any seed fast-check printed.
import fc from 'fast-check';

const seed = process.env.POINTSMALL_SEED;
if (seed !== undefined) fc.configureGlobal({ seed: Number(seed) });
else if (process.env.POINTSMALL_LONG !== '1') fc.configureGlobal({ seed: 20261123 });
