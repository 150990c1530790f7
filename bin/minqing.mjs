#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx), so `npx minqing` needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../scripts/minqing.ts');
