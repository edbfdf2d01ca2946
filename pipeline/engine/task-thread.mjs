// Entry of a worker thread: loads TypeScript through tsx, then the task loop.
import { register } from 'tsx/esm/api';

register();
await import('./task-thread.ts');
