import type { Ref } from "react";
import { type Translator, useT } from "../i18n/index.tsx";
import { Field } from "../ui/components.tsx";

/**
 * A member's own details as they type them: name, email, phone and birthday. Joining asks for
 * them, "My details" on the card corrects them; both use these fields, their input types (so a
 * phone shows the right keyboard), their autocomplete and their errors.
 */

/** What the fields hold. */
export interface ContactValues {
  name: string;
  email: string;
  phone: string;
  birthday: string;
}
export type ContactField = keyof ContactValues;

/** The errors shown at the fields; `contact` is about the email and the phone together (neither given). */
export type ContactErrors = Partial<Record<ContactField | "contact", string>>;

/**
 * The two ways to find a card again, in the form's order: each with the input type that brings up
 * the right keyboard, and what the browser may fill in. The hint and the error about both (neither
 * given) are tied to each.
 */
const REACH = [
  { field: "email", type: "email", inputMode: "email", autoComplete: "email" },
  { field: "phone", type: "tel", inputMode: "tel", autoComplete: "tel" },
] as const;

/** Adds ids to a control's `aria-describedby`. */
function describedBy(...ids: (string | null | undefined | false)[]): string | undefined {
  const joined = ids
    .filter(Boolean)
    .flatMap((id) => String(id).split(" "))
    .join(" ");
  return joined || undefined;
}

/**
 * The error at a field the API refused as invalid (`validation_failed` at `path`: email, phone or
 * birthday), or null for another path. A phone is asked for as dialled in the business's country
 * where the server reads such numbers (`phoneExample`), else with its country code.
 *
 * @example invalidContact(t, "phone", "06 12345678") // { phone: "Enter a number like 06 12345678, …" }
 */
export function invalidContact(
  t: Translator["t"],
  path: string,
  phoneExample: string | null,
): ContactErrors | null {
  if (path === "email") return { email: t("wallet.join.error.email") };
  if (path === "phone")
    return {
      phone: phoneExample
        ? t("wallet.join.error.phoneLocal", { example: phoneExample })
        : t("wallet.join.error.phone"),
    };
  if (path === "birthday") return { birthday: t("wallet.join.error.birthday") };
  return null;
}

/**
 * The name, email, phone and birthday fields. The page words their labels and the birthday's hint;
 * the phone's hint gives a number as dialled in the business's country (`phoneExample`) where the
 * server reads one. An error about the email and the phone together (`errors.contact`) stands
 * above both, tied to each and marking both invalid; with `announceContact` it is announced as an
 * alert (a form without a summary of its errors). `controlRef` gives the page a field's control,
 * to move the focus to it.
 */
export function ContactFields({
  labels,
  values,
  onChange,
  errors,
  phoneExample,
  contactHint,
  announceContact = false,
  birthdayHint,
  birthdayReadOnly = false,
  controlRef,
}: {
  labels: Record<ContactField, string>;
  values: ContactValues;
  onChange: (field: ContactField, value: string) => void;
  errors: ContactErrors;
  phoneExample: string | null;
  /** Said above the email and the phone, and tied to both: why one of them is asked for. */
  contactHint?: string;
  announceContact?: boolean;
  birthdayHint: string;
  birthdayReadOnly?: boolean;
  controlRef?: (field: ContactField) => Ref<HTMLInputElement> | undefined;
}) {
  const { t } = useT();
  const phoneHint = phoneExample
    ? t("wallet.join.phoneHintLocal", { example: phoneExample })
    : t("wallet.join.phoneHint");
  return (
    <>
      <Field label={labels.name} error={errors.name}>
        {(props) => (
          <input
            {...props}
            ref={controlRef?.("name")}
            autoComplete="name"
            required
            value={values.name}
            onChange={(e) => onChange("name", e.target.value)}
          />
        )}
      </Field>
      {contactHint ? (
        <p className="muted wallet-hint" id="contact-hint">
          {contactHint}
        </p>
      ) : null}
      {errors.contact ? (
        <p id="contact-error" className="error" role={announceContact ? "alert" : undefined}>
          {errors.contact}
        </p>
      ) : null}
      {REACH.map(({ field, ...input }) => (
        <Field
          key={field}
          label={labels[field]}
          hint={field === "phone" ? phoneHint : undefined}
          error={errors[field]}
        >
          {(props) => (
            <input
              {...props}
              {...input}
              ref={controlRef?.(field)}
              aria-describedby={describedBy(
                contactHint && "contact-hint",
                errors.contact && "contact-error",
                props["aria-describedby"],
              )}
              aria-invalid={Boolean(errors.contact || errors[field]) || undefined}
              value={values[field]}
              onChange={(e) => onChange(field, e.target.value)}
            />
          )}
        </Field>
      ))}
      <Field label={labels.birthday} hint={birthdayHint} error={errors.birthday}>
        {(props) => (
          <input
            {...props}
            ref={controlRef?.("birthday")}
            type="date"
            autoComplete="bday"
            value={values.birthday}
            readOnly={birthdayReadOnly}
            onChange={(e) => onChange("birthday", e.target.value)}
          />
        )}
      </Field>
    </>
  );
}
