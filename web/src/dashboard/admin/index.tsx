/**
 * Placeholder for the dashboard's admin pages (members, launch kit, settings); the admin pages'
 * author replaces this file with the real pages under the same names.
 */

export function MembersPage() {
  return null;
}

export function MemberPage(_props: { id: string }) {
  return null;
}

export function LaunchKitPage() {
  return null;
}

export function SettingsPage() {
  return null;
}
