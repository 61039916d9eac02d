/**
 * The catalogue's filters: genre, author and language from the current facets (each with its count),
 * "Available only", and a range of publication years. Every change goes to the URL at once, except the
 * years, which are typed and so wait for the typing to settle like the search box.
 */
import type { ChangeEvent } from 'react';
import { setSearchParams } from '../../lib/router';
import { hasFilters, languageName, parseYear, toSearchParamChanges, CLEAR_FILTERS, type CatalogSearch } from './search';
import { useUrlBackedText } from './useDebounced';

/** A facet value and how many matching books have it. */
export interface Facet {
  value: string;
  count: number;
}

export interface FacetLists {
  genres: Facet[];
  authors: Facet[];
  languages: Facet[];
}

function update(change: Partial<CatalogSearch>): void {
  setSearchParams(toSearchParamChanges(change));
}

/**
 * A select over one facet. The chosen value stays listed even when the facets no longer name it (an
 * author typed into the URL, or facets not loaded yet), so the control always shows what narrows the list.
 */
function FacetSelect({
  id,
  label,
  anyLabel,
  value,
  facets,
  display = (v) => v,
  onChange,
}: {
  id: string;
  label: string;
  anyLabel: string;
  value: string;
  facets: Facet[];
  display?: (value: string) => string;
  onChange: (value: string) => void;
}) {
  const listed = facets.some((facet) => facet.value === value);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(event: ChangeEvent<HTMLSelectElement>) => onChange(event.target.value)}>
        <option value="">{anyLabel}</option>
        {value && !listed && <option value={value}>{display(value)}</option>}
        {facets.map((facet) => (
          <option key={facet.value} value={facet.value}>
            {`${display(facet.value)} (${facet.count.toLocaleString('en')})`}
          </option>
        ))}
      </select>
    </div>
  );
}

function YearInput({
  id,
  label,
  value,
  onSettled,
}: {
  id: string;
  label: string;
  value: number | null;
  onSettled: (year: number | null) => void;
}) {
  const [text, setText] = useUrlBackedText(
    value == null ? '' : String(value),
    (typed) => onSettled(parseYear(typed)),
    (typed) => {
      const year = parseYear(typed);
      return year == null ? '' : String(year);
    },
  );
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={0}
        max={9999}
        step={1}
        value={text}
        onChange={(event) => setText(event.target.value)}
      />
    </div>
  );
}

/** The filter controls for the current search; `facets` is null until the first results arrive. */
export function Filters({ search, facets }: { search: CatalogSearch; facets: FacetLists | null }) {
  return (
    <fieldset className="catalog-filters">
      <legend>Filters</legend>
      <FacetSelect
        id="catalog-genre"
        label="Genre"
        anyLabel="Any genre"
        value={search.genre}
        facets={facets?.genres ?? []}
        onChange={(genre) => update({ genre })}
      />
      <FacetSelect
        id="catalog-author"
        label="Author"
        anyLabel="Any author"
        value={search.author}
        facets={facets?.authors ?? []}
        onChange={(author) => update({ author })}
      />
      <FacetSelect
        id="catalog-language"
        label="Language"
        anyLabel="Any language"
        value={search.language}
        facets={facets?.languages ?? []}
        display={languageName}
        onChange={(language) => update({ language })}
      />
      <div className="field checkbox">
        <input
          id="catalog-available"
          type="checkbox"
          checked={search.available}
          onChange={(event) => update({ available: event.target.checked })}
        />
        <label htmlFor="catalog-available">Available only</label>
      </div>
      <div className="year-range">
        <YearInput id="catalog-from" label="Published from" value={search.from} onSettled={(from) => update({ from })} />
        <YearInput id="catalog-to" label="Published to" value={search.to} onSettled={(to) => update({ to })} />
      </div>
      {hasFilters(search) && (
        <button type="button" className="secondary" onClick={() => update(CLEAR_FILTERS)}>
          Clear filters
        </button>
      )}
    </fieldset>
  );
}
