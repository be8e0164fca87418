// A setup file: after each test file, its scratch directories go (see tmp.ts).
import { afterAll } from 'vitest';
import { removeTmpDirs } from './tmp.js';

afterAll(removeTmpDirs);
