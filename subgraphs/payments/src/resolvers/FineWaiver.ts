import type { FineWaiverResolvers } from '../generated/graphql.js';

// Who may see a waiver is declared in access.ts (the patron whose fine it was, or staff).
export const FineWaiver: FineWaiverResolvers = {
  fine: async (waiver, _args, { loaders }) => {
    const fine = await loaders.fine.load(waiver.fineId);
    // The foreign key guarantees it; a missing row would be a broken database, not a client's error.
    if (!fine) throw new Error(`Fine ${waiver.fineId} of waiver ${waiver.id} is missing.`);
    return fine;
  },
  waivedBy: (waiver) => ({ id: waiver.waivedById }),
  waivedAt: (waiver) => waiver.createdAt,
};
