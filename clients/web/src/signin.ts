// The sign-in box in each page's header. How one signs in depends on the
// server (see config.ts): by name (no authentication), by name with a
// development token from the server, or by pasting a token.
import type { WebConfig } from "./config";
import { h, say } from "./dom";
import { developmentSignIn, loadSession, saveSession, sessionFromToken, type Role, type Session } from "./session";

export interface SignIn {
  /** The current session, if someone is signed in. */
  current(): Session | undefined;
  /** Moves the keyboard focus to the sign-in box (when a call needs a sign-in). */
  focus(): void;
}

/** Shows the sign-in box for `role` in `container`; `changed` hears every sign-in and sign-out. */
export function mountSignIn(
  container: HTMLElement,
  config: WebConfig,
  role: Role,
  changed: (session: Session | undefined) => void,
): SignIn {
  let session = loadSession(role);
  // The warehouse needs nothing when the server has no authentication.
  if (!session && role === "warehouse" && config.auth === "off") session = { subject: "warehouse" };

  const set = (next: Session | undefined) => {
    session = next;
    saveSession(role, next);
    render();
    changed(next);
  };

  function render() {
    container.replaceChildren(session ? signedIn(session) : signInForm());
  }

  function signedIn(current: Session) {
    const who = role === "warehouse" ? "the warehouse" : current.subject;
    const words = config.auth === "off" ? "Shopping as" : "Signed in as";
    if (role === "warehouse" && config.auth === "off") {
      return h("p", { class: "who" }, "No sign-in needed: the server runs without authentication.");
    }
    return h(
      "div",
      { class: "who" },
      h("p", {}, `${words} `, h("strong", { "data-testid": "signed-in-as" }, who)),
      h("button", { type: "button", class: "secondary", onclick: () => set(undefined) }, "Sign out"),
    );
  }

  function signInForm() {
    const error = h("p", { class: "alert", role: "alert", hidden: true });
    const fail = (e: unknown) => say(error, e instanceof Error ? e.message : String(e));

    if (config.auth === "required") {
      const input = h("input", { id: "sign-in-token", name: "token", type: "password", autocomplete: "off", required: true });
      return h(
        "form",
        {
          class: "sign-in-form",
          onsubmit: (event: Event) => {
            event.preventDefault();
            try {
              set(sessionFromToken(input.value));
            } catch (e) {
              fail(e);
            }
          },
        },
        h("label", { for: "sign-in-token" }, "Your access token"),
        input,
        h("button", { type: "submit" }, "Sign in"),
        error,
      );
    }

    if (role === "warehouse") {
      const button = h("button", { type: "button", id: "sign-in-warehouse" }, "Sign in as the warehouse");
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          set(await developmentSignIn("warehouse", "warehouse"));
        } catch (e) {
          fail(e);
        } finally {
          button.disabled = false;
        }
      });
      return h("div", { class: "sign-in-form" }, button, error);
    }

    // A customer names themselves: the id their orders are placed under.
    const input = h("input", {
      id: "sign-in-name",
      name: "name",
      autocomplete: "username",
      required: true,
      maxlength: 128,
      pattern: "\\S+",
      "aria-describedby": "sign-in-name-hint",
    });
    const button = h("button", { type: "submit" }, config.auth === "off" ? "Continue" : "Sign in");
    return h(
      "form",
      {
        class: "sign-in-form",
        onsubmit: async (event: Event) => {
          event.preventDefault();
          const name = input.value.trim();
          if (!/^\S{1,128}$/.test(name)) {
            say(error, "Enter a name of one word, without spaces (it becomes your customer id).");
            input.focus();
            return;
          }
          if (config.auth === "off") return set({ subject: name });
          button.disabled = true;
          try {
            set(await developmentSignIn(name, "customer"));
          } catch (e) {
            fail(e);
          } finally {
            button.disabled = false;
          }
        },
      },
      h("label", { for: "sign-in-name" }, "Your name"),
      input,
      h("span", { id: "sign-in-name-hint", class: "hint" }, "One word; your orders are kept under it."),
      button,
      error,
    );
  }

  render();
  return {
    current: () => {
      // A token that expired while the page was open: signed out (the form shows again).
      if (session?.expiresAt !== undefined && session.expiresAt <= Date.now()) set(undefined);
      return session;
    },
    focus: () => container.querySelector<HTMLElement>("input, button")?.focus(),
  };
}
