import { forbidden, requireViewer, type Viewer } from '@shelfwise/kit';
import type { Context } from '../context.js';

/**
 * The person behind a mutation that records who did it (the patron paying, the librarian assessing or
 * waiving). Internal calls act as staff for reading (context.ts) but are nobody: they are refused here.
 */
export function personActing(ctx: Context): Viewer {
  if (ctx.service) throw forbidden('Only a signed-in person can do this, not another service.');
  return requireViewer(ctx.viewer);
}
