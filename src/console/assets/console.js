// The console's little bit of client code: countdowns, actions through the JSON API, live refresh.
(function () {
  // Wording comes from the server in the agent's language (locales/<locale>/console.yaml).
  let text = {};
  try {
    text = JSON.parse(document.getElementById('console-text').textContent || '{}');
  } catch (e) {
    text = {};
  }
  const L = (key) => text[key] || key;
  const toast = document.getElementById('toast');
  function show(text, isError) {
    if (!toast) return;
    toast.textContent = text;
    toast.className = 'show' + (isError ? ' error' : '');
    clearTimeout(show.t);
    show.t = setTimeout(() => (toast.className = ''), isError ? 6000 : 2500);
  }
  function fmt(ms) {
    const m = Math.floor(Math.abs(ms) / 60000);
    const h = Math.floor(m / 60);
    const s = Math.floor((Math.abs(ms) % 60000) / 1000);
    return h > 0
      ? h + L('units.hShort') + ' ' + String(m % 60).padStart(2, '0') + L('units.mShort')
      : m + L('units.mShort') + ' ' + String(s).padStart(2, '0') + L('units.sShort');
  }
  function tick() {
    const now = Date.now();
    for (const el of document.querySelectorAll('[data-due]')) {
      const left = new Date(el.dataset.due).getTime() - now;
      const total = Number(el.dataset.span || 3600000);
      el.textContent = (left >= 0 ? L('due.left') : L('due.overdue')).replace('{{time}}', fmt(left));
      el.classList.toggle('over', left < 0);
      el.classList.toggle('soon', left >= 0 && left < total * 0.2);
    }
  }
  tick();
  setInterval(tick, 1000);

  async function api(path, body) {
    const res = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body || {}),
      credentials: 'same-origin',
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((data.error && data.error.message) || res.statusText);
    return data;
  }

  let refreshing = null;
  async function refresh() {
    if (refreshing) return refreshing;
    refreshing = (async () => {
      const res = await fetch(location.href, { credentials: 'same-origin' });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      for (const id of ['queue', 'case-head', 'transcript', 'packet', 'tabs']) {
        const next = doc.getElementById(id);
        const cur = document.getElementById(id);
        if (!next || !cur) continue;
        // Keep what the agent was choosing (transfer target, resolution code) across live refreshes.
        const kept = [...cur.querySelectorAll('select[id], input[id]')].map((el) => [el.id, el.value]);
        cur.innerHTML = next.innerHTML;
        for (const [elId, value] of kept) {
          const el = document.getElementById(elId);
          if (el && value) el.value = value;
        }
      }
      const t = document.getElementById('transcript');
      if (t) t.scrollTop = t.scrollHeight;
      tick();
    })().finally(() => (refreshing = null));
    return refreshing;
  }
  const t = document.getElementById('transcript');
  if (t) t.scrollTop = t.scrollHeight;

  const root = document.body.dataset.case;
  document.addEventListener('click', async (ev) => {
    const btn = ev.target.closest('button[data-action]');
    if (!btn) return;
    ev.preventDefault();
    const action = btn.dataset.action;
    const id = btn.dataset.case || root;
    let body = {};
    try {
      if (action === 'logout') {
        await api('/api/auth/logout');
        location.href = '/console/login';
        return;
      }
      if (action === 'transfer' || action === 'reassign') {
        const sel = document.getElementById('transfer-to');
        if (!sel || !sel.value) return show(L('client.pickAgent'), true);
        body = { toAgentId: sel.value };
      }
      if (action === 'escalate') {
        const note = prompt(L('client.escalateWhy'));
        if (!note) return;
        body = { note };
      }
      if (action === 'resolve') {
        const code = document.getElementById('resolution-code');
        if (!code || !code.value) return show(L('client.pickCode'), true);
        body = { code: code.value };
      }
      if (action === 'reply' || action === 'note') {
        const box = document.getElementById('reply-text');
        if (!box || !box.value.trim()) return show(L('client.writeFirst'), true);
        body = { text: box.value };
      }
      btn.disabled = true;
      if (action === 'approve' || action === 'deny') {
        await api('/api/console/refunds/' + btn.dataset.refund + '/decision', { decision: action });
      } else {
        await api('/api/console/conversations/' + id + '/' + action, body);
      }
      if (action === 'claim' || action === 'accept') {
        // The case is now in "Mine": follow it there.
        location.href = '/console?view=mine&c=' + id;
        return;
      }
      if (action === 'reply' || action === 'note') document.getElementById('reply-text').value = '';
      show(btn.dataset.done || L('client.done'));
      await refresh();
    } catch (err) {
      show(err.message, true);
    } finally {
      btn.disabled = false;
    }
  });

  // The language menu: remembered on the agent's account, then the page is shown again in it.
  const lang = document.getElementById('locale-switch');
  if (lang) {
    lang.addEventListener('change', async () => {
      try {
        const res = await fetch('/api/console/me/locale', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ locale: lang.value }),
          credentials: 'same-origin',
        });
        if (!res.ok) throw new Error(res.statusText);
        location.reload();
      } catch (err) {
        show(L('client.failed'), true);
      }
    });
  }

  // A new conversation to a customer, from their page: it goes out through the outbox.
  const start = document.getElementById('start-conversation');
  if (start) {
    start.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const box = document.getElementById('start-text');
      if (!box || !box.value.trim()) return show(L('client.writeFirst'), true);
      try {
        const data = await api('/api/console/customers/' + start.dataset.customer + '/conversations', { text: box.value });
        location.href = '/console?view=mine&c=' + data.conversationId;
      } catch (err) {
        show(err.message, true);
      }
    });
  }

  // Canned replies: the chosen one (already filled in for this case) goes into the reply box.
  document.addEventListener('change', (ev) => {
    const pick = ev.target.closest && ev.target.closest('#macro-pick');
    if (!pick || !pick.value) return;
    const box = document.getElementById('reply-text');
    if (box) box.value = box.value ? box.value + '\n' + pick.value : pick.value;
    pick.value = '';
  });

  // Managers' canned replies page: save, add and delete through the JSON API.
  for (const form of document.querySelectorAll('form.macro')) {
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = { title: form.title.value, body: { 'zh-Hans': form['zh-Hans'].value, 'zh-Hant': form['zh-Hant'].value, en: form.en.value } };
      const id = form.dataset.macro;
      try {
        const res = await fetch('/api/console/macros' + (id ? '/' + id : ''), {
          method: id ? 'PUT' : 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          credentials: 'same-origin',
        });
        const data = await res.json().catch(() => ({}));
        if (!res.ok) throw new Error((data.error && data.error.message) || res.statusText);
        show(form.querySelector('button[type=submit]').dataset.done || L('client.done'));
        if (!id) location.reload();
      } catch (err) {
        show(err.message, true);
      }
    });
  }
  document.addEventListener('click', async (ev) => {
    const del = ev.target.closest && ev.target.closest('button[data-delete-macro]');
    if (!del) return;
    const res = await fetch('/api/console/macros/' + del.dataset.deleteMacro, { method: 'DELETE', credentials: 'same-origin' });
    if (res.ok) location.reload();
    else show(L('client.failed'), true);
  });

  if (document.body.dataset.live === '1' && 'EventSource' in window) {
    let timer = null;
    const es = new EventSource('/api/console/events');
    es.addEventListener('change', () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, 150);
    });
  }
})();
