// The consumer web chat. Plain JS, no build step; it uses only the documented /api/webchat API.
// Inlined into the page by channels/webchat/page.ts after KEFU_CONFIG is defined.
(() => {
  'use strict';

  const STORAGE_KEY = 'kefu.webchat.v1';
  const PAGE_SIZE = 200; // the server's history page size: a full page means there is more
  const POLL_MS = 3000;
  const SSE_RETRY_FROM_POLLING_MS = 30000;
  const MAX_AUTO_RETRIES = 3;

  // Interface labels only; everything the bot says comes from the server (flows/, prompts/).
  const LABELS = {
    'zh-Hans': {
      pageTitle: '客服 · 在线帮助', title: '在线客服', subtitle: '有问题随时问我，也可以找人工客服',
      restart: '换个身份', pickerTitle: '请选择一位演示用户',
      pickerHint: '这是演示环境：选一位用户，就能以他的身份和客服聊天。', guest: '以访客身份继续',
      firstTime: '第一次使用', age: (n) => `${n} 岁`,
      inputLabel: '输入您的问题', inputPlaceholder: '在这里输入，然后点“发送”', send: '发送',
      history: '聊天记录', quickReplies: '快捷选项', me: '我', bot: '客服小助手', agent: '人工客服', system: '系统消息',
      sending: '发送中…', failed: '没有发出去', retry: '重新发送', rejected: '这条消息发不出去，请改短一点再试',
      reconnecting: '网络不太稳定，正在重新连接…', polling: '网络连接受限，消息可能会慢几秒', loadFailed: '加载失败，请稍后刷新页面',
      sessionEnded: '对话已过期，请重新开始',
    },
    'zh-Hant': {
      pageTitle: '客服 · 線上幫助', title: '線上客服', subtitle: '有問題隨時問我，也可以找真人客服',
      restart: '換個身分', pickerTitle: '請選擇一位示範用戶',
      pickerHint: '這是示範環境：選一位用戶，就能以他的身分和客服聊天。', guest: '以訪客身分繼續',
      firstTime: '第一次使用', age: (n) => `${n} 歲`,
      inputLabel: '輸入您的問題', inputPlaceholder: '在這裡輸入，然後點「發送」', send: '發送',
      history: '聊天記錄', quickReplies: '快捷選項', me: '我', bot: '客服小助手', agent: '真人客服', system: '系統訊息',
      sending: '發送中…', failed: '沒有發出去', retry: '重新發送', rejected: '這則訊息發不出去，請改短一點再試',
      reconnecting: '網路不太穩定，正在重新連線…', polling: '網路連線受限，訊息可能會慢幾秒', loadFailed: '載入失敗，請稍後重新整理頁面',
      sessionEnded: '對話已過期，請重新開始',
    },
    en: {
      pageTitle: 'Support chat', title: 'Support chat', subtitle: 'Ask me anything, or ask for a person',
      restart: 'Switch user', pickerTitle: 'Choose a demo customer',
      pickerHint: 'This is a demo: pick a customer to chat with support as that person.', guest: 'Continue as a guest',
      firstTime: 'First-time user', age: (n) => `${n} years old`,
      inputLabel: 'Type your question', inputPlaceholder: 'Type here, then press “Send”', send: 'Send',
      history: 'Conversation', quickReplies: 'Quick replies', me: 'Me', bot: 'Support assistant', agent: 'Support agent', system: 'System',
      sending: 'Sending…', failed: 'Not sent', retry: 'Send again', rejected: 'This message cannot be sent; please shorten it',
      reconnecting: 'Connection lost, reconnecting…', polling: 'Limited connection: messages may take a few seconds', loadFailed: 'Could not load; please reload the page later',
      sessionEnded: 'This chat has expired; please start again',
    },
  };
  const LOCALES = Object.keys(LABELS);

  const $ = (id) => document.getElementById(id);
  const els = {
    picker: $('picker'), customers: $('customers'), guest: $('guest'), chat: $('chat'), status: $('status'), scroller: $('scroller'),
    list: $('messages'), quick: $('quick-replies'), form: $('composer'), text: $('text'), send: $('send'), restart: $('restart'),
  };

  const state = {
    token: null,
    locale: 'zh-Hans',
    cursor: '0',
    /** Server message id -> its list item: nothing is ever shown twice. */
    shown: new Map(),
    /** clientMessageId -> a message the customer typed that the server has not confirmed yet. */
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
  };

  const t = (key) => (LABELS[state.locale] || LABELS['zh-Hans'])[key];

  function applyLabels() {
    document.documentElement.lang = state.locale;
    document.title = t('pageTitle');
    for (const el of document.querySelectorAll('[data-label]')) el.textContent = t(el.dataset.label);
    els.text.placeholder = t('inputPlaceholder');
    els.list.setAttribute('aria-label', t('history'));
    els.scroller.setAttribute('aria-label', t('history'));
    els.quick.setAttribute('aria-label', t('quickReplies'));
  }

  function load() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || 'null');
      return saved && typeof saved.token === 'string' ? saved : null;
    } catch {
      return null;
    }
  }
  function save() {
    localStorage.setItem(STORAGE_KEY, JSON.stringify({ token: state.token, locale: state.locale }));
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
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    const headers = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (state.token) headers.authorization = `Bearer ${state.token}`;
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    if (!res.ok) throw new ApiError(res.status, data?.error?.code ?? 'http_error', data?.error?.message ?? res.statusText);
    return data;
  }

  function setStatus(text) {
    if (els.status.textContent !== text) els.status.textContent = text;
  }

  // ---- rendering ------------------------------------------------------------------------------

  function authorLabel(author) {
    return t(author === 'customer' ? 'me' : author);
  }

  function messageItem(author, text) {
    const li = document.createElement('li');
    li.className = `message ${author}`;
    const who = document.createElement('span');
    who.className = 'author';
    who.textContent = authorLabel(author);
    const bubble = document.createElement('div');
    bubble.className = 'bubble';
    bubble.textContent = text;
    li.append(who, bubble);
    return li;
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
    if (!last || last.author === 'customer' || !last.quickReplies || state.outgoing.size > 0) return;
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
    if (state.shown.has(m.id)) return;
    // The empty message that opened the chat (the greeting's trigger) is nothing the consumer wrote.
    if (m.author === 'customer' && m.text === '') {
      state.shown.set(m.id, null);
      return;
    }
    if (m.author === 'customer') {
      for (const item of state.outgoing.values()) {
        if (item.messageId === m.id) return reconcile(item, m);
      }
      // It may be the server's copy of a send whose answer has not come back yet.
      if ([...state.outgoing.values()].some((o) => !o.messageId)) {
        state.unmatched.set(m.id, m);
        return;
      }
    }
    const li = messageItem(m.author, m.text);
    li.dataset.id = m.id;
    insertServerItem(li, m.createdAt);
    state.shown.set(m.id, li);
    noteLatest(m);
  }

  function noteLatest(m) {
    if (!state.lastServerMessage || state.lastServerMessage.createdAt <= m.createdAt) state.lastServerMessage = m;
    renderQuickReplies();
    scrollToEnd();
  }

  // ---- sending --------------------------------------------------------------------------------

  function setDelivery(item, kind) {
    item.el.classList.toggle('pending', kind === 'sending');
    item.el.classList.toggle('failed', kind === 'failed' || kind === 'rejected');
    item.delivery.replaceChildren();
    item.delivery.hidden = kind === 'done';
    if (kind === 'sending') item.delivery.textContent = t('sending');
    if (kind === 'rejected') item.delivery.textContent = t('rejected');
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

  function send(payload, displayText) {
    const clientMessageId = uuid();
    const el = messageItem('customer', displayText);
    const delivery = document.createElement('span');
    delivery.className = 'delivery';
    el.append(delivery);
    els.list.append(el);
    const item = { clientMessageId, body: { clientMessageId, ...payload }, el, delivery, messageId: null, inFlight: false, autoRetries: 0 };
    state.outgoing.set(clientMessageId, item);
    renderQuickReplies();
    scrollToEnd();
    post(item);
  }

  /** Sends (or re-sends, with the same clientMessageId, so the server stores it once). */
  async function post(item) {
    if (item.inFlight || !state.outgoing.has(item.clientMessageId)) return;
    item.inFlight = true;
    setDelivery(item, 'sending');
    try {
      const result = await api('POST', '/api/webchat/messages', item.body);
      item.messageId = result.messageId;
      const copy = state.unmatched.get(result.messageId);
      if (copy) {
        state.unmatched.delete(result.messageId);
        reconcile(item, copy);
      } else if (state.shown.has(result.messageId)) {
        // Already on screen (sent from this session before): drop the local echo.
        item.el.remove();
        state.outgoing.delete(item.clientMessageId);
      } else {
        setDelivery(item, 'done');
      }
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return sessionEnded();
      if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429) {
        setDelivery(item, 'rejected');
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
      flushUnmatched();
      renderQuickReplies();
    }
  }

  function reconcile(item, m) {
    state.outgoing.delete(item.clientMessageId);
    item.el.dataset.id = m.id;
    // The server's copy wins: it may be masked (card or ID numbers).
    item.el.querySelector('.bubble').textContent = m.text;
    setDelivery(item, 'done');
    insertServerItem(item.el, m.createdAt);
    state.shown.set(m.id, item.el);
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
      // A full page means more; a cursor held before an undelivered reply means wait for it.
      if (page.messages.length < PAGE_SIZE || Number(state.cursor) <= Number(before)) return;
    }
  }

  function connect() {
    clearTimeout(state.retryTimer);
    if (state.source) state.source.close();
    const generation = state.generation;
    const url = `/api/webchat/events?token=${encodeURIComponent(state.token)}&after=${encodeURIComponent(state.cursor)}`;
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
    state.cursor = '0';
    state.shown.clear();
    state.outgoing.clear();
    state.unmatched.clear();
    state.lastServerMessage = null;
    state.sseWorked = false;
    state.failures = 0;
    els.list.replaceChildren();
    els.quick.replaceChildren();
    setStatus('');
    localStorage.removeItem(STORAGE_KEY);
  }

  function sessionEnded() {
    resetConversation();
    start().then(() => setStatus(t('sessionEnded')));
  }

  async function openChat() {
    els.picker.hidden = true;
    els.chat.hidden = false;
    els.restart.hidden = !KEFU_CONFIG.demoMode;
    applyLabels();
    try {
      await catchUp();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return false;
      setStatus(t('reconnecting'));
    }
    connect();
    els.text.focus();
    return true;
  }

  async function createSession(body) {
    const created = await api('POST', '/api/webchat/sessions', body);
    state.token = created.token;
    save();
    await openChat();
  }

  function requestedLocale() {
    const lang = new URLSearchParams(location.search).get('lang');
    return LOCALES.includes(lang) ? lang : null;
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
        about.textContent = ` · ${t('age')(year - c.birthYear)}`;
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
    const saved = load();
    if (saved) {
      state.token = saved.token;
      state.locale = LOCALES.includes(saved.locale) ? saved.locale : 'zh-Hans';
      if (await openChat()) return;
      resetConversation();
    }
    state.locale = requestedLocale() ?? 'zh-Hans';
    applyLabels();
    if (KEFU_CONFIG.demoMode) return showPicker();
    const locale = requestedLocale();
    await createSession(locale ? { locale } : {}).catch(() => setStatus(t('loadFailed')));
  }

  // ---- input ----------------------------------------------------------------------------------

  els.form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = els.text.value.trim();
    if (!text || !state.token) return;
    els.text.value = '';
    autoGrow();
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
    createSession(requestedLocale() ? { locale: requestedLocale() } : {}).catch(() => setStatus(t('loadFailed')));
  });
  els.restart.addEventListener('click', () => {
    resetConversation();
    start();
  });

  start();
})();
