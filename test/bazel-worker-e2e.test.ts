// The persistent worker under real Bazel, a workspace of 24 normalize actions (the slow suite
// builds 300: test/bazel-worker-e2e.slow.test.ts).
import { workerE2E } from './bazel-worker-e2e.js';

workerE2E(24);
