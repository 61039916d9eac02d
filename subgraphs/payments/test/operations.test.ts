import { describePaymentOperations } from './operations.js';

describePaymentOperations('payments operations (PGlite)', describe, () => ({}));
