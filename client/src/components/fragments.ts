/**
 * Selections several screens share, as GraphQL fragments: a fine as the patron's Fines tab and the staff
 * patron page both show it (the staff page adds who waived it).
 */
import { graphql } from '../gql';

graphql(`
  fragment FineDetails on Fine {
    id
    amountCents
    reason
    status
    createdAt
    daysOverdue
    note
    loan {
      id
      book {
        id
        title
      }
    }
    waiver {
      id
      reason
      waivedAt
    }
  }
`);
