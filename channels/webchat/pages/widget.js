// The consumer web chat, as an embeddable widget and as the full page at `/` (same code).
// Plain JS, no framework, no build step; it uses only the documented /api/webchat API.
//
// Embed:  <script src="https://kefu.example/widget.js" data-position="right" data-locale="en"
//           data-color="#1d4ed8" data-customer-id="…" data-signature="…" async></script>
// The server puts the widget's stylesheet into CSS below (channels/webchat/page.ts).
(() => {
  'use strict';

  const script = document.currentScript;
  const opts = (script && script.dataset) || {};
  const BASE = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  const PAGE = opts.mode === 'page';
  const CSS = '__KEFU_CSS__';
  const LOCALES = ['zh-Hans', 'zh-Hant', 'en'];
  const LOCALE_NAMES = { 'zh-Hans': '简体中文', 'zh-Hant': '繁體中文', en: 'English' };
  // The full page keeps its historical key; a widget is keyed by the chat server it talks to.
  const STORAGE_KEY = PAGE ? 'kefu.webchat.v1' : `kefu.widget.v1:${BASE}`;
  const SENIOR_KEY = `${STORAGE_KEY}:senior`;
  const PAGE_SIZE = 200; // the server's history page size: a full page means there is more
  const POLL_MS = 3000;
  const SSE_RETRY_FROM_POLLING_MS = 30000;
  const MAX_AUTO_RETRIES = 3;
  const SENIOR_PACE_MS = 1200; // senior mode: bot messages one at a time, with "typing" between
  const TYPING_TIMEOUT_MS = 15000;
  const REDUCED_MOTION = window.matchMedia && matchMedia('(prefers-reduced-motion: reduce)').matches;

  let LABELS = {};
  let MAX_BYTES = 10 * 1024 * 1024;
  let DEMO = false;

  // ---- markup ---------------------------------------------------------------------------------

  const heading = PAGE ? 'h1' : 'h2';
  const MARKUP = `
<div class="app" id="panel" ${PAGE ? '' : 'role="dialog" aria-modal="false" aria-labelledby="title" hidden'}>
  <header class="topbar">
    <div class="brand">
      <span class="avatar" aria-hidden="true">客</span>
      <div>
        <${heading} id="title" class="title" data-label="title"></${heading}>
        <p class="subtitle" data-label="subtitle"></p>
      </div>
    </div>
    <div class="tools">
      <label class="switch"><input type="checkbox" id="senior" role="switch"><span data-label="senior"></span></label>
      <label class="lang"><span class="visually-hidden" data-label="language"></span>
        <select id="lang">${LOCALES.map((l) => `<option value="${l}" lang="${l}">${LOCALE_NAMES[l]}</option>`).join('')}</select></label>
      <button type="button" id="restart" class="link-button" data-label="restart" hidden></button>
      ${PAGE ? '' : '<button type="button" id="close" class="icon-button" data-aria="close"><span aria-hidden="true">×</span></button>'}
    </div>
  </header>
  <section id="picker" class="picker" aria-labelledby="picker-title" hidden>
    <h2 id="picker-title" data-label="pickerTitle"></h2>
    <p class="hint" data-label="pickerHint"></p>
    <ul id="customers" class="customers"></ul>
    <button type="button" id="guest" class="big-button secondary" data-label="guest"></button>
  </section>
  <section id="chat" class="chat" aria-labelledby="title" hidden>
    <p id="status" class="status" role="status" aria-live="polite"></p>
    <div id="scroller" class="scroller" tabindex="0" role="region" data-aria="history">
      <ol id="messages" class="messages" aria-live="polite" aria-relevant="additions" data-aria="history"></ol>
      <p id="typing" class="typing" aria-live="polite"></p>
      <div id="quick-replies" class="quick-replies" role="group" data-aria="quickReplies"></div>
    </div>
    <div id="help-bar" class="help-bar" role="group" aria-labelledby="help-bar-label">
      <span id="help-bar-label" class="visually-hidden" data-label="helpBar"></span>
      <button type="button" id="ask-person" class="help-button" data-label="askPerson"></button>
      <button type="button" id="call-me" class="help-button" data-label="callMe"></button>
    </div>
    <p id="notice" class="notice" role="alert"></p>
    <form id="composer" class="composer" autocomplete="off">
      <input type="file" id="file" class="visually-hidden" tabindex="-1" aria-hidden="true" accept="image/jpeg,image/png,application/pdf,image/heic,image/heif,.heic,.heif">
      <button type="button" id="attach" class="attach" data-aria="attach"><svg aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="28" height="28"><path fill="currentColor" d="M9 3 7.2 5H4a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2h-3.2L15 3H9Zm3 5a5 5 0 1 1 0 10 5 5 0 0 1 0-10Zm0 2a3 3 0 1 0 0 6 3 3 0 0 0 0-6Z"/></svg></button>
      <label for="text" class="visually-hidden" data-label="inputLabel"></label>
      <textarea id="text" name="text" rows="1" maxlength="8000"></textarea>
      <button type="submit" id="send" class="send" data-label="send"></button>
    </form>
  </section>
</div>`;

  let shadow = null;
  let host = null;
  let launcher = null;
  const container = document.createElement('div');
  container.className = 'kefu';
  container.innerHTML = MARKUP;
  if (PAGE) {
    const target = (opts.target && document.getElementById(opts.target)) || document.body;
    const style = document.createElement('style');
    style.textContent = CSS;
    document.head.append(style);
    container.classList.add('kefu-page');
    target.append(container);
  } else {
    host = document.createElement('div');
    host.id = 'kefu-widget';
    shadow = host.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = CSS;
    launcher = document.createElement('button');
    launcher.type = 'button';
    launcher.id = 'launcher';
    launcher.className = 'launcher';
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-controls', 'panel');
    launcher.innerHTML = '<span aria-hidden="true" class="launcher-icon">客</span><span class="launcher-text" data-label="title"></span>';
    container.classList.add('kefu-widget', opts.position === 'left' ? 'left' : 'right');
    container.prepend(launcher);
    shadow.append(style, container);
    document.body.append(host);
  }
  if (opts.color && /^#[0-9a-f]{3,8}$/i.test(opts.color)) container.style.setProperty('--brand', opts.color);
  if (opts.colorDark && /^#[0-9a-f]{3,8}$/i.test(opts.colorDark)) container.style.setProperty('--brand-dark', opts.colorDark);

  const $ = (id) => container.querySelector(`#${id}`);
  const els = {
    panel: $('panel'), picker: $('picker'), customers: $('customers'), guest: $('guest'), chat: $('chat'), status: $('status'),
    scroller: $('scroller'), list: $('messages'), typing: $('typing'), quick: $('quick-replies'), form: $('composer'), text: $('text'),
    send: $('send'), restart: $('restart'), senior: $('senior'), lang: $('lang'), close: $('close'), attach: $('attach'), file: $('file'),
    notice: $('notice'), askPerson: $('ask-person'), callMe: $('call-me'),
  };

  const state = {
    token: null,
    locale: 'zh-Hans',
    senior: false,
    cursor: '0',
    /** The server's read-up-to marker: customer messages written up to then were seen by an agent. */
    agentSeenAt: null,
    /** Server message id -> its list item: nothing is ever shown twice. */
    shown: new Map(),
    /** clientMessageId -> a message the customer sent that the server has not confirmed yet. */
    outgoing: new Map(),
    /** Customer messages from the server that may be the copy of a send still in flight. */
    unmatched: new Map(),
    lastServerMessage: null,
    source: null,
    sseWorked: false,
    failures: 0,
    retryTimer: null,
    pollTimer: null,
    polling: false,
    generation: 0,
    /** Senior mode paces bot messages: those waiting their turn, and when the next may show. */
    paced: [],
    nextShowAt: 0,
    paceTimer: null,
    typingTimer: null,
    live: false,
    started: false,
  };

  function t(key, vars) {
    const table = LABELS[state.locale] || LABELS['zh-Hans'] || {};
    const text = table[key] ?? (LABELS['zh-Hans'] || {})[key] ?? key;
    return vars ? text.replace(/\{\{\s*(\w+)\s*\}\}/g, (all, name) => (vars[name] === undefined ? all : String(vars[name]))) : text;
  }

  function applyLabels() {
    container.lang = state.locale;
    if (PAGE) {
      document.documentElement.lang = state.locale;
      document.title = t('pageTitle');
    }
    for (const el of container.querySelectorAll('[data-label]')) el.textContent = t(el.dataset.label);
    for (const el of container.querySelectorAll('[data-aria]')) el.setAttribute('aria-label', t(el.dataset.aria));
    if (launcher) launcher.setAttribute('aria-label', t(els.panel.hidden ? 'open' : 'close'));
    els.text.placeholder = t('inputPlaceholder');
    els.lang.value = state.locale;
    for (const li of els.list.children) relabel(li);
    updateReceipts();
  }

  function setLocale(locale, { tellServer } = { tellServer: false }) {
    if (!LOCALES.includes(locale)) return;
    const changed = locale !== state.locale;
    state.locale = locale;
    save();
    if (changed) applyLabels();
    if (tellServer && state.token) api('POST', '/api/webchat/locale', { locale }).catch(() => {});
  }

  function setSenior(on, remember) {
    state.senior = on;
    container.classList.toggle('senior', on);
    els.senior.checked = on;
    if (remember) localStorage.setItem(SENIOR_KEY, on ? '1' : '0');
    renderQuickReplies();
  }

  // ---- storage --------------------------------------------------------------------------------

  function load() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || 'null');
      return saved && typeof saved.token === 'string' ? saved : null;
    } catch {
      return null;
    }
  }
  /** The session, its language, and what the customer wrote that the server has not confirmed. */
  function save() {
    if (!state.token) return;
    // Another tab cleared or replaced the session: leave its choice alone.
    if (state.savedToken && load()?.token !== state.savedToken) return;
    state.savedToken = state.token;
    const unsent = [...state.outgoing.values()]
      .filter((o) => !o.messageId && !o.file)
      .map((o) => ({ clientMessageId: o.clientMessageId, body: o.body, text: o.displayText }));
    localStorage.setItem(STORAGE_KEY, JSON.stringify({ token: state.token, locale: state.locale, unsent }));
  }

  // crypto.randomUUID needs a secure context; getRandomValues works on plain http too.
  function uuid() {
    if (window.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  class ApiError extends Error {
    constructor(status, code, message, details) {
      super(message);
      this.status = status;
      this.code = code;
      this.details = details;
    }
  }

  async function api(method, path, body, extraHeaders) {
    const headers = { ...(extraHeaders || {}) };
    const raw = body instanceof Blob;
    if (body !== undefined && !raw) headers['content-type'] = 'application/json';
    if (state.token) headers.authorization = `Bearer ${state.token}`;
    const res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : raw ? body : JSON.stringify(body) });
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    if (!res.ok) throw new ApiError(res.status, data?.error?.code ?? 'http_error', data?.error?.message ?? res.statusText, data?.error?.details);
    return data;
  }

  function setStatus(text) {
    if (els.status.textContent !== text) els.status.textContent = text;
  }
  function setNotice(text) {
    els.notice.textContent = text;
  }

  // ---- rendering ------------------------------------------------------------------------------

  function relabel(li) {
    const who = li.querySelector('.author');
    if (who) who.textContent = t(li.dataset.author === 'customer' ? 'me' : li.dataset.author);
    const time = li.querySelector('time');
    if (time) time.textContent = formatTime(time.dateTime);
    for (const img of li.querySelectorAll('img[data-alt]')) img.alt = img.dataset.alt || t('photo');
  }

  function formatTime(iso) {
    const at = new Date(iso);
    if (Number.isNaN(at.getTime())) return '';
    const today = new Date().toDateString() === at.toDateString();
    const options = today ? { hour: '2-digit', minute: '2-digit' } : { month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit' };
    return new Intl.DateTimeFormat(state.locale, options).format(at);
  }

  function messageItem(author, text, createdAt) {
    const li = document.createElement('li');
    li.className = `message ${author}`;
    li.dataset.author = author;
    const head = document.createElement('span');
    head.className = 'meta';
    const who = document.createElement('span');
    who.className = 'author';
    const time = document.createElement('time');
    time.dateTime = createdAt || new Date().toISOString();
    head.append(who, ' ', time);
    const bubble = document.createElement('div');
    bubble.className = 'bubble';
    bubble.textContent = text;
    li.append(head, bubble);
    relabel(li);
    return li;
  }

  /** Photos are fetched with the session token (never a cookie) and shown from a local URL. */
  function renderAttachments(li, attachments) {
    const box = document.createElement('div');
    box.className = 'files';
    for (const a of attachments || []) {
      if (!a.id) continue;
      if (a.kind === 'image') {
        const img = document.createElement('img');
        img.dataset.alt = a.filename || '';
        img.alt = a.filename || t('photo');
        img.className = 'photo';
        box.append(img);
        fetchFile(a.id).then((url) => {
          if (url) img.src = url;
        });
      } else {
        const link = document.createElement('button');
        link.type = 'button';
        link.className = 'file-link';
        link.textContent = `${t('openFile')}: ${a.filename || t('file')}`;
        link.addEventListener('click', () => fetchFile(a.id).then((url) => url && window.open(url, '_blank', 'noopener')));
        box.append(link);
      }
    }
    if (box.childElementCount > 0) li.querySelector('.bubble').append(box);
  }

  async function fetchFile(id) {
    try {
      const res = await fetch(`${BASE}/api/webchat/attachments/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${state.token}` } });
      return res.ok ? URL.createObjectURL(await res.blob()) : null;
    } catch {
      return null;
    }
  }

  function scrollToEnd() {
    els.scroller.scrollTop = els.scroller.scrollHeight;
  }

  /** Server messages are kept in time order; unconfirmed local ones stay at the end. */
  function insertServerItem(li, createdAt) {
    li.dataset.createdAt = createdAt;
    let before = null;
    for (const other of els.list.children) {
      if (other === li) continue;
      if (!other.dataset.createdAt || other.dataset.createdAt > createdAt) {
        before = other;
        break;
      }
    }
    els.list.insertBefore(li, before);
  }

  function renderQuickReplies() {
    els.quick.replaceChildren();
    const last = state.lastServerMessage;
    if (!last || last.author === 'customer' || !last.quickReplies || state.outgoing.size > 0 || state.paced.length > 0) return;
    const newest = els.list.lastElementChild;
    if (newest && newest.dataset.id !== last.id) return;
    for (const q of last.quickReplies) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'quick-reply';
      button.textContent = q.label;
      button.addEventListener('click', () => {
        send({ choice: q.id }, q.label);
        els.text.focus();
      });
      els.quick.append(button);
    }
  }

  function showServerMessage(m) {
    if (state.shown.has(m.id) || state.paced.some((p) => p.id === m.id)) return;
    if (m.author === 'customer') {
      for (const item of state.outgoing.values()) {
        if (item.messageId === m.id) return reconcile(item, m);
      }
      // It may be the server's copy of a send whose answer has not come back yet.
      if ([...state.outgoing.values()].some((o) => !o.messageId)) {
        state.unmatched.set(m.id, m);
        return;
      }
    } else if (state.senior && state.live) {
      // One at a time: the next bot message waits its turn behind a typing indicator.
      state.paced.push(m);
      return pump();
    }
    display(m);
  }

  function display(m) {
    const li = messageItem(m.author, m.text, m.createdAt);
    li.dataset.id = m.id;
    if (m.author === 'customer') {
      // Restored after a reload: it says how far it got like one sent from this page.
      const receipt = document.createElement('span');
      receipt.className = 'receipt';
      li.append(receipt);
    }
    renderAttachments(li, m.attachments);
    insertServerItem(li, m.createdAt);
    state.shown.set(m.id, li);
    if (m.author !== 'customer') typing(false);
    noteLatest(m);
  }

  function pump() {
    clearTimeout(state.paceTimer);
    if (state.paced.length === 0) return;
    const wait = state.nextShowAt - Date.now();
    if (wait > 0) {
      typing(true);
      state.paceTimer = setTimeout(pump, wait);
      return;
    }
    const m = state.paced.shift();
    state.nextShowAt = Date.now() + SENIOR_PACE_MS;
    display(m);
    if (state.paced.length > 0) pump();
  }

  function typing(on) {
    clearTimeout(state.typingTimer);
    els.typing.textContent = on ? t('typing') : '';
    els.typing.classList.toggle('on', on);
    if (on) state.typingTimer = setTimeout(() => typing(false), TYPING_TIMEOUT_MS);
  }

  function noteLatest(m) {
    if (!state.lastServerMessage || state.lastServerMessage.createdAt <= m.createdAt) state.lastServerMessage = m;
    renderQuickReplies();
    updateReceipts();
    scrollToEnd();
  }

  /**
   * The newest message of the customer's says how far it got: sent, delivered, or seen by an
   * agent — the server's read-up-to marker (an agent opened the case after it was written).
   */
  function updateReceipts() {
    const items = [...els.list.children];
    const lastCustomer = items.filter((li) => li.dataset.author === 'customer' && li.dataset.id).at(-1);
    const writtenAt = lastCustomer ? Date.parse(lastCustomer.querySelector('time')?.dateTime ?? '') : NaN;
    const seen = state.agentSeenAt !== null && writtenAt <= Date.parse(state.agentSeenAt);
    for (const li of items) {
      const receipt = li.querySelector('.receipt');
      if (!receipt) continue;
      receipt.textContent = li === lastCustomer ? t(seen ? 'seen' : 'delivered') : '';
      li.classList.toggle('seen', li === lastCustomer && seen);
    }
  }

  function setAgentSeen(at) {
    if (typeof at !== 'string' || at === state.agentSeenAt) return;
    state.agentSeenAt = at;
    updateReceipts();
  }

  // ---- sending --------------------------------------------------------------------------------

  function setDelivery(item, kind) {
    item.el.classList.toggle('pending', kind === 'sending');
    item.el.classList.toggle('failed', kind === 'failed' || kind === 'rejected');
    item.delivery.replaceChildren();
    item.delivery.hidden = kind === 'done';
    if (kind === 'sending') item.delivery.textContent = t('sending');
    if (kind === 'sent') item.delivery.textContent = t('sent');
    if (kind === 'rejected') item.delivery.textContent = item.rejection || t('rejected');
    if (kind === 'failed') {
      const note = document.createElement('span');
      note.textContent = t('failed');
      const retry = document.createElement('button');
      retry.type = 'button';
      retry.className = 'retry';
      retry.textContent = t('retry');
      retry.addEventListener('click', () => post(item));
      item.delivery.append(note, retry);
    }
  }

  function localItem(clientMessageId, payload, displayText, file) {
    const el = messageItem('customer', displayText);
    const delivery = document.createElement('span');
    delivery.className = 'delivery';
    const receipt = document.createElement('span');
    receipt.className = 'receipt';
    el.append(delivery, receipt);
    els.list.append(el);
    const item = { clientMessageId, body: { clientMessageId, ...payload }, displayText, file, el, delivery, messageId: null, inFlight: false, autoRetries: 0 };
    state.outgoing.set(clientMessageId, item);
    return item;
  }

  function send(payload, displayText, file) {
    // Senior mode paces the bot's messages one after another. She has read and answered: what is
    // still queued shows now, and the answer to what she sends shows as soon as it comes.
    clearTimeout(state.paceTimer);
    for (const m of state.paced.splice(0)) display(m);
    state.nextShowAt = 0;
    const item = localItem(uuid(), payload, displayText, file);
    save();
    renderQuickReplies();
    scrollToEnd();
    post(item);
    return item;
  }

  /** Sends (or re-sends, with the same clientMessageId, so the server stores it once). */
  async function post(item) {
    if (item.inFlight || !state.outgoing.has(item.clientMessageId)) return;
    item.inFlight = true;
    setDelivery(item, 'sending');
    try {
      const result = item.file
        ? await api('POST', '/api/webchat/attachments', item.file, {
            'x-client-message-id': item.clientMessageId,
            'x-file-name': encodeURIComponent(item.file.name || ''),
          })
        : await api('POST', '/api/webchat/messages', item.body);
      item.messageId = result.messageId;
      typing(true);
      const copy = state.unmatched.get(result.messageId);
      if (copy) {
        state.unmatched.delete(result.messageId);
        reconcile(item, copy);
      } else if (state.shown.has(result.messageId)) {
        // Already on screen (sent from this session before): drop the local echo.
        item.el.remove();
        state.outgoing.delete(item.clientMessageId);
      } else {
        setDelivery(item, 'sent');
      }
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return sessionEnded();
      if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429) {
        if (item.file) item.rejection = fileRefusal(err);
        setDelivery(item, 'rejected');
        if (item.rejection) setNotice(item.rejection);
        state.outgoing.delete(item.clientMessageId);
      } else {
        setDelivery(item, 'failed');
        if (item.autoRetries < MAX_AUTO_RETRIES) {
          item.autoRetries += 1;
          setTimeout(() => post(item), 1000 * 2 ** item.autoRetries);
        }
      }
    } finally {
      item.inFlight = false;
      save();
      flushUnmatched();
      renderQuickReplies();
    }
  }

  function fileRefusal(err) {
    if (err.status === 413) return t('fileTooBig', { mb: Math.round(MAX_BYTES / 1048576) });
    if (err.status === 415) return t(err.details?.reason === 'heic' ? 'fileHeic' : 'fileType');
    return t('fileFailed');
  }

  function reconcile(item, m) {
    state.outgoing.delete(item.clientMessageId);
    item.el.dataset.id = m.id;
    // The server's copy wins: it may be masked (card or ID numbers). A photo keeps its local preview.
    const bubble = item.el.querySelector('.bubble');
    if (!item.file) bubble.textContent = m.text;
    setDelivery(item, 'done');
    insertServerItem(item.el, m.createdAt);
    item.el.querySelector('time').dateTime = m.createdAt;
    relabel(item.el);
    state.shown.set(m.id, item.el);
    save();
    noteLatest(m);
  }

  /** Customer messages that belong to no send of this page (another tab) are shown once no send is unanswered. */
  function flushUnmatched() {
    if ([...state.outgoing.values()].some((o) => !o.messageId)) return;
    const waiting = [...state.unmatched.values()];
    state.unmatched.clear();
    for (const m of waiting) showServerMessage(m);
  }

  function retryFailedSends() {
    for (const item of state.outgoing.values()) if (!item.messageId && !item.inFlight) post(item);
  }

  // ---- photos and files -----------------------------------------------------------------------

  async function preview(file) {
    // A small copy for the bubble: the full file goes to the server untouched.
    try {
      const bitmap = await createImageBitmap(file);
      const scale = Math.min(1, 480 / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement('canvas');
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      return canvas.toDataURL('image/jpeg', 0.8);
    } catch {
      return null;
    }
  }

  async function sendFile(file) {
    setNotice('');
    if (file.size > MAX_BYTES) return setNotice(t('fileTooBig', { mb: Math.round(MAX_BYTES / 1048576) }));
    // iPhone HEIC photos are converted to JPEG by the server; the browser may not draw a preview of them.
    const isImage = /^image\//.test(file.type) || /\.hei[cf]$/i.test(file.name);
    const item = send({}, '', file);
    const bubble = item.el.querySelector('.bubble');
    const url = isImage ? await preview(file) : null;
    if (isImage) {
      if (!url) bubble.textContent = `${t('photo')}: ${file.name}`;
      if (url) {
        const img = document.createElement('img');
        img.className = 'photo';
        img.src = url;
        img.alt = file.name || t('photo');
        bubble.append(img);
      }
    } else {
      bubble.textContent = `${t('file')}: ${file.name}`;
    }
    scrollToEnd();
  }

  // ---- live updates ---------------------------------------------------------------------------

  function accept(messages, cursor) {
    for (const m of messages) showServerMessage(m);
    if (cursor !== undefined && cursor !== null && cursor !== '') state.cursor = String(cursor);
  }

  /** Reads everything after the cursor (the first load, a reconnect, or a poll). */
  async function catchUp() {
    for (;;) {
      const before = state.cursor;
      const page = await api('GET', `/api/webchat/messages?after=${encodeURIComponent(before)}`);
      accept(page.messages, page.cursor);
      if (page.locale) setLocale(page.locale);
      setAgentSeen(page.agentSeenAt);
      // A full page means more; a cursor held before an undelivered reply means wait for it.
      if (page.messages.length < PAGE_SIZE || Number(state.cursor) <= Number(before)) return;
    }
  }

  function connect() {
    clearTimeout(state.retryTimer);
    if (state.source) state.source.close();
    const generation = state.generation;
    const url = `${BASE}/api/webchat/events?token=${encodeURIComponent(state.token)}&after=${encodeURIComponent(state.cursor)}`;
    const source = new EventSource(url);
    state.source = source;
    source.addEventListener('open', () => {
      state.sseWorked = true;
      state.failures = 0;
      stopPolling();
      setStatus('');
      retryFailedSends();
    });
    source.addEventListener('message', (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      accept([message], event.lastEventId);
    });
    source.addEventListener('locale', (event) => {
      try {
        setLocale(JSON.parse(event.data).locale);
      } catch {
        // a malformed event changes nothing
      }
    });
    source.addEventListener('seen', (event) => {
      try {
        setAgentSeen(JSON.parse(event.data).agentSeenAt);
      } catch {
        // a malformed event changes nothing
      }
    });
    source.addEventListener('error', () => {
      // Reconnect ourselves, from our own cursor, with backoff; the browser's retry would not resume from it.
      source.close();
      if (state.source !== source || generation !== state.generation) return;
      state.source = null;
      state.failures += 1;
      if (state.polling || (!state.sseWorked && state.failures >= 3)) return startPolling();
      setStatus(t('reconnecting'));
      pollOnce();
      state.retryTimer = setTimeout(connect, Math.min(500 * 2 ** state.failures, 5000));
    });
  }

  async function pollOnce() {
    const generation = state.generation;
    try {
      await catchUp();
      if (state.polling) setStatus(t('polling'));
    } catch (err) {
      if (generation !== state.generation) return;
      if (err instanceof ApiError && err.status === 401) sessionEnded();
    }
  }

  /** Fallback when the event stream never gets through (proxies that buffer streams). */
  function startPolling() {
    if (!state.polling) {
      state.polling = true;
      pollOnce();
      state.pollTimer = setInterval(pollOnce, POLL_MS);
    }
    setStatus(t('polling'));
    clearTimeout(state.retryTimer);
    // Try the stream again now and then: the network may have changed.
    state.retryTimer = setTimeout(() => {
      state.failures = 0;
      connect();
    }, SSE_RETRY_FROM_POLLING_MS);
  }

  function stopPolling() {
    state.polling = false;
    clearInterval(state.pollTimer);
    state.pollTimer = null;
  }

  function disconnect() {
    state.generation += 1;
    clearTimeout(state.retryTimer);
    stopPolling();
    if (state.source) state.source.close();
    state.source = null;
  }

  window.addEventListener('online', () => {
    if (!state.token) return;
    if (!state.source && !state.polling) connect();
    retryFailedSends();
  });

  // ---- sessions -------------------------------------------------------------------------------

  function resetConversation() {
    disconnect();
    state.token = null;
    state.savedToken = null;
    state.cursor = '0';
    state.agentSeenAt = null;
    state.shown.clear();
    state.outgoing.clear();
    state.unmatched.clear();
    state.paced = [];
    state.live = false;
    state.lastServerMessage = null;
    state.sseWorked = false;
    state.failures = 0;
    els.list.replaceChildren();
    els.quick.replaceChildren();
    typing(false);
    setStatus('');
    setNotice('');
    localStorage.removeItem(STORAGE_KEY);
  }

  function sessionEnded() {
    resetConversation();
    start().then(() => setStatus(t('sessionEnded')));
  }

  async function openChat(unsent) {
    els.picker.hidden = true;
    els.chat.hidden = false;
    els.restart.hidden = !(PAGE && DEMO);
    applyLabels();
    try {
      const info = await api('GET', '/api/webchat/session');
      if (info.locale) setLocale(info.locale);
      const remembered = localStorage.getItem(SENIOR_KEY);
      setSenior(remembered === null ? Boolean(info.firstTimeUser) || opts.senior === 'on' : remembered === '1', false);
      await catchUp();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return false;
      setStatus(t('reconnecting'));
    }
    state.live = true;
    // What she wrote before a reload and the server never confirmed goes out again, same ids.
    for (const u of unsent || []) {
      if (!u || typeof u.clientMessageId !== 'string' || state.outgoing.has(u.clientMessageId)) continue;
      const { clientMessageId: _id, ...payload } = u.body || {};
      post(localItem(u.clientMessageId, payload, u.text || '', null));
    }
    connect();
    if (PAGE || !els.panel.hidden) els.text.focus();
    return true;
  }

  async function createSession(body) {
    const created = await api('POST', '/api/webchat/sessions', body);
    state.token = created.token;
    save();
    await openChat([]);
  }

  /** The language for a new session: the embedder's choice, ?lang=, then the browser's languages. */
  function preferredLocale() {
    const asked = opts.locale || new URLSearchParams(location.search).get('lang');
    if (LOCALES.includes(asked)) return asked;
    for (const tag of navigator.languages || [navigator.language || '']) {
      const lower = String(tag).toLowerCase();
      if (/^zh-(hant|tw|hk|mo)/.test(lower)) return 'zh-Hant';
      if (lower.startsWith('zh')) return 'zh-Hans';
      if (lower.startsWith('en')) return 'en';
    }
    return 'zh-Hans';
  }

  function identity() {
    return opts.customerId && opts.signature ? { customerId: opts.customerId, signature: opts.signature } : {};
  }

  async function showPicker() {
    els.chat.hidden = true;
    els.restart.hidden = true;
    els.picker.hidden = false;
    applyLabels();
    els.customers.replaceChildren();
    let customers = [];
    try {
      customers = (await api('GET', '/api/webchat/demo-customers')).customers;
    } catch {
      setStatus(t('loadFailed'));
    }
    const year = new Date().getFullYear();
    customers.forEach((c, i) => {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = `customer-button${i === 0 && c.firstTimeUser ? ' featured' : ''}`;
      const text = document.createElement('span');
      const who = document.createElement('span');
      who.className = 'who';
      who.textContent = c.name ?? '—';
      text.append(who);
      if (c.birthYear) {
        const about = document.createElement('span');
        about.className = 'about';
        about.textContent = ` · ${t('age', { n: year - c.birthYear })}`;
        text.append(about);
      }
      button.append(text);
      if (c.firstTimeUser) {
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = t('firstTime');
        button.append(badge);
      }
      button.addEventListener('click', () => {
        state.locale = LOCALES.includes(c.locale) ? c.locale : 'zh-Hans';
        createSession({ customerId: c.id, locale: state.locale }).catch(() => setStatus(t('loadFailed')));
      });
      li.append(button);
      els.customers.append(li);
    });
    els.customers.querySelector('button')?.focus();
  }

  async function start() {
    state.started = true;
    const saved = load();
    if (saved) {
      state.token = saved.token;
      state.savedToken = saved.token;
      state.locale = LOCALES.includes(saved.locale) ? saved.locale : 'zh-Hans';
      if (await openChat(Array.isArray(saved.unsent) ? saved.unsent : [])) return;
      resetConversation();
    }
    state.locale = preferredLocale();
    applyLabels();
    if (PAGE && DEMO) return showPicker();
    await createSession({ ...identity(), locale: state.locale }).catch(() => setStatus(t('loadFailed')));
  }

  // ---- widget open / close --------------------------------------------------------------------

  function openWidget() {
    els.panel.hidden = false;
    launcher.setAttribute('aria-expanded', 'true');
    launcher.hidden = true;
    applyLabels();
    if (!state.started) start();
    else if (!els.chat.hidden) els.text.focus();
  }
  function closeWidget() {
    els.panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute('aria-expanded', 'false');
    applyLabels();
    launcher.focus();
  }

  // ---- input ----------------------------------------------------------------------------------

  els.form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = els.text.value.trim();
    if (!text || !state.token) return;
    els.text.value = '';
    autoGrow();
    setNotice('');
    send({ text }, text);
    els.text.focus();
  });
  els.text.addEventListener('keydown', (event) => {
    // Enter sends; Shift+Enter starts a new line; IME composition is left alone.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      els.form.requestSubmit();
    }
  });
  function autoGrow() {
    els.text.style.height = 'auto';
    els.text.style.height = `${Math.min(els.text.scrollHeight + 4, 180)}px`;
  }
  els.text.addEventListener('input', autoGrow);
  els.guest.addEventListener('click', () => {
    createSession({ locale: state.locale }).catch(() => setStatus(t('loadFailed')));
  });
  els.restart.addEventListener('click', () => {
    resetConversation();
    start();
  });
  els.senior.addEventListener('change', () => setSenior(els.senior.checked, true));
  els.lang.addEventListener('change', () => setLocale(els.lang.value, { tellServer: true }));
  // The help bar says the same words as asking in the chat: the flows hand over or call back.
  els.askPerson.addEventListener('click', () => state.token && send({ text: t('askPersonText') }, t('askPersonText')));
  els.callMe.addEventListener('click', () => state.token && send({ text: t('callMeText') }, t('callMeText')));
  els.attach.addEventListener('click', () => els.file.click());
  els.file.addEventListener('change', () => {
    const file = els.file.files && els.file.files[0];
    els.file.value = '';
    if (file && state.token) sendFile(file);
  });
  if (launcher) {
    launcher.addEventListener('click', openWidget);
    els.close.addEventListener('click', closeWidget);
    container.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !els.panel.hidden) closeWidget();
    });
  }
  if (REDUCED_MOTION) container.classList.add('reduced-motion');

  // Labels first (one small JSON bundle), then the chat; the widget waits to be opened.
  fetch(`${BASE}/api/webchat/labels`)
    .then((res) => res.json())
    .then((bundle) => {
      LABELS = bundle.locales || {};
      MAX_BYTES = bundle.maxAttachmentBytes || MAX_BYTES;
      DEMO = Boolean(bundle.demoMode);
    })
    .catch(() => {})
    .then(() => {
      const saved = load();
      state.locale = saved && LOCALES.includes(saved.locale) ? saved.locale : preferredLocale();
      const remembered = localStorage.getItem(SENIOR_KEY);
      if (remembered !== null) setSenior(remembered === '1', false);
      applyLabels();
      if (PAGE || opts.open === 'true') {
        if (!PAGE) openWidget();
        else start();
      }
    });
})();
