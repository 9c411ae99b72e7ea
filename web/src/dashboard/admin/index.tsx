/**
 * The dashboard's admin pages: members (`/app/members`, `/app/members/:id`), the launch kit
 * (`/app/launch-kit`) and settings (`/app/settings`). The dashboard shell renders them after login.
 */
export { LaunchKitPage } from "./launch-kit.tsx";
export { MemberPage } from "./member.tsx";
export { MembersPage } from "./members.tsx";
export { SettingsPage } from "./settings.tsx";
