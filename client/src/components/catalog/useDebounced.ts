import { useEffect, useRef, useState } from 'react';

/** Search-as-you-type waits this long after the last keystroke before it asks the server. */
export const SEARCH_DEBOUNCE_MS = 250;

/** `value`, once it has stopped changing for `delayMs` (so typing "dune" sends one search, not four). */
export function useDebouncedValue<T>(value: T, delayMs = SEARCH_DEBOUNCE_MS): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

/**
 * A text input whose value lives in the URL: the person types freely, the URL (and so the search) follows
 * once the typing settles, and a change of the URL from elsewhere (Back, "Clear filters") replaces the
 * text. Returns the text to show and its setter.
 *
 * @param urlValue what the URL says now
 * @param push writes a settled value to the URL
 * @param normalize what the URL makes of a value (the default trims it), so the URL echoing "dune" for a
 *   typed "dune " is recognised as this input's own change and does not eat the space being typed
 */
export function useUrlBackedText(
  urlValue: string,
  push: (value: string) => void,
  normalize: (value: string) => string = (value) => value.trim(),
  delayMs = SEARCH_DEBOUNCE_MS,
): [string, (text: string) => void] {
  const [text, setText] = useState(urlValue);
  const settled = useDebouncedValue(text, delayMs);
  // The last value this input wrote to the URL: the URL echoing it back must not reset newer typing.
  const pushed = useRef(urlValue);
  const latestPush = useRef(push);
  latestPush.current = push;

  useEffect(() => {
    if (settled === pushed.current) return;
    pushed.current = settled;
    latestPush.current(settled);
  }, [settled]);

  const latestNormalize = useRef(normalize);
  latestNormalize.current = normalize;

  useEffect(() => {
    if (urlValue === latestNormalize.current(pushed.current)) return;
    // Changed from elsewhere: show it, and treat it as already pushed.
    pushed.current = urlValue;
    setText(urlValue);
  }, [urlValue]);

  return [text, setText];
}
