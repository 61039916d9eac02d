/** TODO(#10): toasts for live notifications. */
export function LiveNotifications() {
  return null;
}
