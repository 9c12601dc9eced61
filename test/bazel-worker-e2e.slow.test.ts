// The persistent worker under real Bazel, a workspace of 300 normalize actions (npm run test:slow).
import { workerE2E } from './bazel-worker-e2e.js';

workerE2E(300);
