// The customer portal: sign in with a token, list, filter and page documents, download them,
// read the balance. No framework, no build step; every text comes from texts.js.
import { DEFAULT_LANGUAGE, LANGUAGES, LOCALES, TEXTS } from "./texts.js";

const TOKEN_KEY = "portal.token";
const CUSTOMER_KEY = "portal.customer";
const LANGUAGE_KEY = "portal.language";
const PAGE_SIZE = 10;
const CUSTOMER_ID = /^C[0-9]{7,12}$/;

const state = {
  language: DEFAULT_LANGUAGE,
  apiUrl: null,
  token: null,
  claims: {},
  customer: null,
  filter: { type: "", from: "", to: "" },
  cursors: [null],
  page: 0,
  documents: null,
  nextCursor: null,
  account: null,
  // The status and error lines as text keys, so that a language switch translates them too.
  status: null,
  error: null,
};

const $ = (id) => document.getElementById(id);

// --- texts and formats ---------------------------------------------------------------------

function text(key, values = {}) {
  const template = TEXTS[state.language][key] ?? TEXTS[DEFAULT_LANGUAGE][key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

// Amounts arrive as decimal strings; Intl formats a string exactly, with no float in between.
function money(amount, currency = "EUR") {
  const format = new Intl.NumberFormat(LOCALES[state.language], { style: "currency", currency });
  return format.format(amount);
}

function calendarDay(iso) {
  if (!iso) return "–";
  const [year, month, day] = iso.split("-").map(Number);
  const format = new Intl.DateTimeFormat(LOCALES[state.language], {
    dateStyle: "medium",
    timeZone: "UTC",
  });
  return format.format(new Date(Date.UTC(year, month - 1, day)));
}

function billingMonth(period) {
  const [year, month] = (period || "").split("-").map(Number);
  if (!year || !month) return period || "–";
  const format = new Intl.DateTimeFormat(LOCALES[state.language], {
    month: "long",
    year: "numeric",
    timeZone: "UTC",
  });
  return format.format(new Date(Date.UTC(year, month - 1, 1)));
}

// A text with `code` parts, built as nodes (never as HTML).
function fillText(element, value) {
  element.replaceChildren();
  value.split("`").forEach((part, index) => {
    if (index % 2 === 1) {
      const code = document.createElement("code");
      code.textContent = part;
      element.append(code);
    } else if (part) {
      element.append(part);
    }
  });
}

function applyLanguage(language) {
  state.language = LANGUAGES.includes(language) ? language : DEFAULT_LANGUAGE;
  localStorage.setItem(LANGUAGE_KEY, state.language);
  document.documentElement.lang = state.language;
  for (const element of document.querySelectorAll("[data-text]")) {
    fillText(element, text(element.dataset.text));
  }
  for (const button of document.querySelectorAll("[data-language]")) {
    button.setAttribute("aria-pressed", String(button.dataset.language === state.language));
  }
  renderSession();
  renderDocuments();
  renderAccount();
  renderMessages();
}

// --- messages ------------------------------------------------------------------------------

// A message is [text key, values], or null for none.
function announce(key = "", values = {}) {
  state.status = key ? [key, values] : null;
  renderMessages();
}

function showError(key = "", values = {}) {
  state.error = key ? [key, values] : null;
  renderMessages();
}

function renderMessages() {
  $("status").textContent = state.status ? text(...state.status) : "";
  const box = $("error");
  box.textContent = state.error ? text(...state.error) : "";
  box.hidden = !state.error;
}

function errorMessage(error) {
  if (error.status === 0) return ["error.network"];
  if (error.status === 401) return ["error.unauthorized"];
  if (error.status === 403) return ["error.forbidden"];
  if (error.status === 404) return ["error.not_found"];
  if (error.status === 400) {
    return ["error.invalid", { detail: error.message.split(":")[0] || error.code }];
  }
  return ["error.server"];
}

// --- the API -------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code = "", message = "") {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function isStaff() {
  return state.claims.billing_role === "staff";
}

function apiUrl(path, query = {}) {
  const url = new URL(state.apiUrl + path);
  for (const [name, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== "") url.searchParams.set(name, value);
  }
  if (isStaff() && state.customer && !url.searchParams.has("customer")) {
    url.searchParams.set("customer", state.customer);
  }
  return url;
}

async function api(path, { query = {}, accept = "application/json" } = {}) {
  let response;
  try {
    response = await fetch(apiUrl(path, query), {
      headers: { Authorization: `Bearer ${state.token}`, Accept: accept },
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0);
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new ApiError(response.status, body.error?.code, body.error?.message);
  }
  return response;
}

// Only to show who is signed in; the API verifies the token, the page never trusts it.
function claimsOf(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = new TextDecoder().decode(
      Uint8Array.from(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, "=")), (c) =>
        c.charCodeAt(0),
      ),
    );
    const claims = JSON.parse(json);
    return claims && typeof claims === "object" ? claims : {};
  } catch {
    return {};
  }
}

// --- signing in and out ----------------------------------------------------------------------

async function signIn(token) {
  state.token = token;
  state.claims = claimsOf(token);
  state.customer = isStaff() ? sessionStorage.getItem(CUSTOMER_KEY) : null;
  sessionStorage.setItem(TOKEN_KEY, token);
  $("signin").hidden = true;
  $("session").hidden = false;
  renderSession();
  if (isStaff() && !state.customer) {
    $("staff-customer").focus();
    return;
  }
  await loadEverything();
}

function signOut(message = []) {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(CUSTOMER_KEY);
  Object.assign(state, { token: null, claims: {}, customer: null, documents: null });
  Object.assign(state, { account: null, cursors: [null], page: 0, nextCursor: null });
  $("token").value = "";
  for (const id of ["session", "balance", "documents"]) $(id).hidden = true;
  $("signin").hidden = false;
  showError(...message);
  announce();
  $("token").focus();
}

function renderSession() {
  if (!state.token) return;
  const who = state.claims.sub || "?";
  $("session-who").textContent = text(isStaff() ? "session.staff" : "session.customer", {
    id: who,
  });
  $("staff-form").hidden = !isStaff();
  if (isStaff() && state.customer) $("staff-customer").value = state.customer;
}

async function loadEverything() {
  $("documents").hidden = false;
  $("balance").hidden = false;
  state.cursors = [null];
  state.page = 0;
  await Promise.all([loadDocuments(), loadAccount()]);
}

function failed(error) {
  if (error.status === 401) {
    signOut(errorMessage(error));
    return;
  }
  showError(...errorMessage(error));
}

// --- documents -------------------------------------------------------------------------------

async function loadDocuments() {
  const section = $("documents");
  section.setAttribute("aria-busy", "true");
  announce("status.loading");
  showError();
  try {
    const response = await api("/documents", {
      query: {
        limit: PAGE_SIZE,
        type: state.filter.type,
        from: state.filter.from,
        to: state.filter.to,
        cursor: state.cursors[state.page],
      },
    });
    const page = await response.json();
    state.documents = page.documents;
    state.nextCursor = page.next_cursor;
    renderDocuments();
    announce("status.loaded", { count: page.documents.length });
  } catch (error) {
    announce();
    failed(error);
  } finally {
    section.setAttribute("aria-busy", "false");
  }
}

function cell(row, content, { header = false, className = "" } = {}) {
  const element = document.createElement(header ? "th" : "td");
  if (header) element.scope = "row";
  if (className) element.className = className;
  element.append(content);
  row.append(element);
  return element;
}

function fileButton(label, accessibleName, onClick) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.setAttribute("aria-label", accessibleName);
  button.addEventListener("click", onClick);
  return button;
}

function documentRow(doc) {
  const row = document.createElement("tr");
  row.dataset.number = doc.number;
  cell(row, doc.number, { header: true });
  cell(row, text(`type.${doc.document_type}`));
  cell(row, calendarDay(doc.issue_date));
  cell(row, billingMonth(doc.period));
  cell(row, money(doc.gross), { className: "amount" });
  const files = cell(row, "");
  files.append(
    fileButton(text("documents.pdf"), text("documents.pdf.label", { number: doc.number }), () =>
      downloadPdf(doc),
    ),
    fileButton(text("documents.xml"), text("documents.xml.label", { number: doc.number }), () =>
      downloadXml(doc),
    ),
  );
  return row;
}

function renderDocuments() {
  if (state.documents === null) return;
  $("document-rows").replaceChildren(...state.documents.map(documentRow));
  $("documents-none").hidden = state.documents.length > 0;
  $("document-table").hidden = state.documents.length === 0;
  $("page-number").textContent = text("documents.page", { page: state.page + 1 });
  $("previous-page").disabled = state.page === 0;
  $("next-page").disabled = !state.nextCursor;
}

function turnPage(step) {
  if (step > 0) state.cursors[state.page + 1] = state.nextCursor;
  state.page = Math.max(0, state.page + step);
  return loadDocuments();
}

// --- downloads -------------------------------------------------------------------------------

// The API answers the PDF's presigned URL (Accept: application/json); the storage serves it
// as an attachment, so opening it saves the file and leaves the page where it is.
async function downloadPdf(doc) {
  announce("status.downloading");
  showError();
  try {
    const link = await (await api(doc.pdf)).json();
    const anchor = document.createElement("a");
    anchor.href = link.url;
    anchor.rel = "noopener noreferrer";
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
    announce("status.downloaded", { name: `${doc.number}.pdf` });
  } catch (error) {
    announce();
    failed(error);
  }
}

async function downloadXml(doc) {
  announce("status.downloading");
  showError();
  try {
    const blob = await (await api(doc.xml, { accept: "application/xml" })).blob();
    const url = URL.createObjectURL(blob);
    const anchor = document.createElement("a");
    anchor.href = url;
    anchor.download = `${doc.number}.xml`;
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    announce("status.downloaded", { name: `${doc.number}.xml` });
  } catch (error) {
    announce();
    if (error.status === 404) showError("error.no_einvoice");
    else failed(error);
  }
}

// --- balance ---------------------------------------------------------------------------------

async function loadAccount() {
  try {
    const response = await api("/account");
    state.account = { available: true, ...(await response.json()) };
  } catch (error) {
    state.account = { available: false };
    if (error.status !== 404) failed(error);
  }
  renderAccount();
}

function balanceText(account) {
  const balance = account.balance.trim();
  if (/^-?0+(\.0+)?$/.test(balance)) return text("balance.settled");
  if (balance.startsWith("-")) {
    return text("balance.credit", { amount: money(balance.slice(1), account.currency) });
  }
  return text("balance.owed", { amount: money(balance, account.currency) });
}

function itemRow(item, currency) {
  const row = document.createElement("tr");
  cell(row, item.document_number || item.item, { header: true });
  cell(row, text(`kind.${item.kind}`));
  cell(row, calendarDay(item.opened_on));
  cell(row, calendarDay(item.due_on));
  cell(row, money(item.amount, currency), { className: "amount" });
  cell(row, money(item.open, currency), { className: "amount" });
  const status = text(`status.${item.status}`);
  const reason = item.return_reason ? ` (${text("status.reason", { reason: item.return_reason })})` : "";
  cell(row, status + reason);
  return row;
}

function renderAccount() {
  const account = state.account;
  if (account === null) return;
  if (!account.available) {
    $("balance-text").textContent = text("balance.unavailable");
    $("items").hidden = true;
    return;
  }
  const items = account.open_items || [];
  $("balance-text").textContent =
    balanceText(account) + (items.length ? "" : ` ${text("balance.none")}`);
  $("items-body").replaceChildren(...items.map((item) => itemRow(item, account.currency)));
  $("items").hidden = items.length === 0;
}

// --- wiring ----------------------------------------------------------------------------------

async function readConfig() {
  const response = await fetch("config.json", { cache: "no-store", credentials: "omit" });
  if (!response.ok) throw new Error("no config.json");
  const config = await response.json();
  const base = new URL(config.api_url || window.location.origin);
  return base.href.replace(/\/+$/, "");
}

function wire() {
  for (const button of document.querySelectorAll("[data-language]")) {
    button.addEventListener("click", () => applyLanguage(button.dataset.language));
  }
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (!token) {
      showError("signin.empty");
      $("token").focus();
      return;
    }
    showError();
    signIn(token);
  });
  $("signout").addEventListener("click", () => signOut());
  $("staff-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const customer = $("staff-customer").value.trim();
    if (!CUSTOMER_ID.test(customer)) {
      showError("staff.invalid");
      $("staff-customer").focus();
      return;
    }
    state.customer = customer;
    sessionStorage.setItem(CUSTOMER_KEY, customer);
    showError();
    loadEverything();
  });
  $("filter-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const filter = {
      type: $("filter-type").value,
      from: $("filter-from").value,
      to: $("filter-to").value,
    };
    if (filter.from && filter.to && filter.from > filter.to) {
      showError("filter.order");
      $("filter-from").focus();
      return;
    }
    state.filter = filter;
    state.cursors = [null];
    state.page = 0;
    loadDocuments();
  });
  $("filter-form").addEventListener("reset", () => {
    state.filter = { type: "", from: "", to: "" };
    state.cursors = [null];
    state.page = 0;
    loadDocuments();
  });
  $("previous-page").addEventListener("click", () => turnPage(-1));
  $("next-page").addEventListener("click", () => turnPage(1));
}

async function start() {
  wire();
  applyLanguage(localStorage.getItem(LANGUAGE_KEY) || DEFAULT_LANGUAGE);
  try {
    state.apiUrl = await readConfig();
  } catch {
    showError("error.config");
    $("signin-form").querySelector("button").disabled = true;
    return;
  }
  document.body.dataset.ready = "true";
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) await signIn(saved);
}

start();
