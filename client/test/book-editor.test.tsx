/**
 * @jest-environment jsdom
 */
/**
 * The book editor's copy actions: withdrawing a copy cannot be undone and marking one lost changes what
 * patrons see, so each asks again in place and sends nothing until confirmed. Rendered with the app's real
 * cache in front of a scripted server that records the mutations it gets.
 */
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { Provider, makeResult } from 'urql';
import { BookEditor } from '../src/pages/staff/BookEditor';
import { operationName, scriptedClient, unscripted } from './scripted';

const copy = (id: string, barcode: string, status: string) => ({ __typename: 'Copy', id, barcode, status });

const BOOK = {
  __typename: 'Book',
  id: 'b1',
  isbn: '9780441013593',
  title: 'Dune',
  authors: ['Frank Herbert'],
  genres: ['Science fiction'],
  publishedYear: 1965,
  language: 'en',
  description: null,
  totalCopies: 2,
  availableCopies: 2,
  holdQueueLength: 0,
  copies: [copy('c1', 'DUNE-001', 'AVAILABLE'), copy('c2', 'DUNE-002', 'AVAILABLE')],
};

/** The copy as the server answers a withdraw or mark-lost of it. */
function changed(copyId: string, status: string) {
  const before = BOOK.copies.find((c) => c.id === copyId)!;
  return { ...before, status, book: { __typename: 'Book', id: 'b1', availableCopies: 1, totalCopies: status === 'WITHDRAWN' ? 1 : 2 } };
}

function setup() {
  const mutations: { name: string; variables: unknown }[] = [];
  const client = scriptedClient({
    respond: (operation) => {
      const name = operationName(operation);
      if (operation.kind === 'mutation') mutations.push({ name, variables: operation.variables });
      const copyId = String((operation.variables as { copyId?: string } | undefined)?.copyId);
      switch (name) {
        case 'StaffBookEditor':
          return makeResult(operation, { data: { book: BOOK } });
        case 'StaffWithdrawCopy':
          return makeResult(operation, { data: { withdrawCopy: changed(copyId, 'WITHDRAWN') } });
        case 'StaffMarkCopyLost':
          return makeResult(operation, { data: { markCopyLost: changed(copyId, 'LOST') } });
        default:
          throw unscripted(operation);
      }
    },
  });
  render(
    <Provider value={client}>
      <BookEditor id="b1" />
    </Provider>,
  );
  return mutations;
}

/** The row of the copy with this barcode. */
function row(barcode: string): HTMLElement {
  return screen.getByText(barcode, { selector: 'code' }).closest('tr') as HTMLElement;
}

async function click(element: HTMLElement) {
  await act(async () => {
    fireEvent.click(element);
    await Promise.resolve();
  });
}

describe('the book editor: withdrawing a copy and marking one lost', () => {
  afterEach(cleanup);

  it('asks before withdrawing, with the focus on the confirm button, and only the confirm sends it', async () => {
    const mutations = setup();
    await screen.findByRole('heading', { name: 'Edit Dune' });

    await click(within(row('DUNE-001')).getByRole('button', { name: 'Withdraw DUNE-001' }));

    const question = screen.getByRole('group', { name: 'Withdraw copy DUNE-001? It leaves the catalogue for good.' });
    const confirm = within(question).getByRole('button', { name: 'Withdraw copy' });
    expect(document.activeElement).toBe(confirm);
    expect(within(question).getByRole('button', { name: 'Keep' })).toBeTruthy();
    // The other copy is not being asked about.
    expect(within(row('DUNE-002')).getByRole('button', { name: 'Withdraw DUNE-002' })).toBeTruthy();
    expect(mutations).toEqual([]);

    await click(confirm);

    expect(mutations).toEqual([{ name: 'StaffWithdrawCopy', variables: { copyId: 'c1' } }]);
    expect(await within(row('DUNE-001')).findByText('Withdrawn.')).toBeTruthy();
    expect(screen.queryByRole('group', { name: /Withdraw copy DUNE-001/ })).toBeNull();
  });

  it('sends nothing after Keep or Escape, and gives focus back to the button it came from', async () => {
    const mutations = setup();
    await screen.findByRole('heading', { name: 'Edit Dune' });

    await click(within(row('DUNE-001')).getByRole('button', { name: 'Withdraw DUNE-001' }));
    await click(screen.getByRole('button', { name: 'Keep' }));
    expect(screen.queryByRole('group')).toBeNull();
    expect(document.activeElement).toBe(within(row('DUNE-001')).getByRole('button', { name: 'Withdraw DUNE-001' }));

    await click(within(row('DUNE-002')).getByRole('button', { name: 'Mark DUNE-002 lost' }));
    const question = screen.getByRole('group', { name: 'Mark copy DUNE-002 lost?' });
    expect(document.activeElement).toBe(within(question).getByRole('button', { name: 'Mark copy lost' }));
    await act(async () => {
      fireEvent.keyDown(document.activeElement!, { key: 'Escape' });
      await Promise.resolve();
    });
    expect(screen.queryByRole('group')).toBeNull();
    expect(document.activeElement).toBe(within(row('DUNE-002')).getByRole('button', { name: 'Mark DUNE-002 lost' }));

    expect(mutations).toEqual([]);
  });

  it('marks a copy lost only once confirmed', async () => {
    const mutations = setup();
    await screen.findByRole('heading', { name: 'Edit Dune' });

    await click(within(row('DUNE-002')).getByRole('button', { name: 'Mark DUNE-002 lost' }));
    expect(mutations).toEqual([]);
    await click(screen.getByRole('button', { name: 'Mark copy lost' }));

    expect(mutations).toEqual([{ name: 'StaffMarkCopyLost', variables: { copyId: 'c2' } }]);
    expect(await within(row('DUNE-002')).findByText('Marked lost.')).toBeTruthy();
  });
});
