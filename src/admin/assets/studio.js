// Platform studio: plain JS over the JSON API at /api/admin/studio.
(function () {
  const data = JSON.parse(document.getElementById('studio-data').textContent || '{}');
  const W = data.wording || {};
  const w = (key, vars) => (W[key] || key).replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? String(vars[k]) : m));
  const API = '/api/admin/studio';
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const toast = (text, bad) => {
    const el = $('#toast');
    el.textContent = text;
    el.className = bad ? 'show bad' : 'show';
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => (el.className = ''), 4000);
  };
  async function call(method, path, body) {
    const res = await fetch(API + path, {
      method,
      credentials: 'same-origin',
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new Error((json.error && json.error.message) || res.statusText);
      err.status = res.status;
      err.details = json.error && json.error.details;
      throw err;
    }
    return json;
  }
  const result = (text, bad) => {
    const el = $('#result');
    if (!el) return toast(text, bad);
    el.textContent = text;
    el.className = bad ? 'result bad' : 'result ok';
  };

  // A message that must survive the reload that follows a save or publish.
  const flash = (text, bad, delay) => {
    sessionStorage.setItem('studio-flash', JSON.stringify({ text, bad: !!bad }));
    setTimeout(() => location.reload(), delay || 0);
  };
  const pending = sessionStorage.getItem('studio-flash');
  if (pending) {
    sessionStorage.removeItem('studio-flash');
    const f = JSON.parse(pending);
    result(f.text, f.bad);
  }

  document.addEventListener('click', async (ev) => {
    const btn = ev.target.closest('[data-action="logout"]');
    if (!btn) return;
    await call('POST', '/logout').catch(() => {});
    location.href = '/console/login?next=/admin/studio';
  });

  // Publishing: refused with the first problem or transcript difference; a lower lexicon score asks first.
  async function publish(documents) {
    const comment = ($('#comment') && $('#comment').value) || '';
    try {
      await call('POST', '/publish', { documents, comment });
    } catch (err) {
      if (err.status === 409 && err.details && err.details.confirmationRequired) {
        const l = err.details.lexicon;
        const pct = (v) => (v * 100).toFixed(1) + ' %';
        if (!confirm(w('editor.confirmLower', { before: pct(l.before.accuracy), after: pct(l.after.accuracy) }))) return;
        await call('POST', '/publish', { documents, comment, confirmLowerAccuracy: true });
      } else throw err;
    }
    flash(w('editor.published'));
  }
  async function check(documents) {
    const res = await call('POST', '/check', { documents });
    if (res.problems.length > 0) return result(res.problems.map(problemText).join('\n'), true);
    const failed = res.transcripts.filter((t) => !t.ok);
    const lines = failed.map((t) => `${t.documentId} #${t.difference.turn}: ${t.difference.expected} ≠ ${t.difference.actual}`);
    result(failed.length ? lines.join('\n') : `✓ ${res.transcripts.length} golden transcripts`, failed.length > 0);
  }
  const problemText = (p) => `${p.documentId} ${p.line ? w('editor.line', { n: p.line }) : ''} (${p.path}): ${p.message}`;
  const guard = (fn) => async (...args) => {
    try {
      await fn(...args);
    } catch (err) {
      result(err.message, true);
    }
  };

  // Documents list.
  const publishAll = $('[data-action="publish-all"]');
  if (publishAll) publishAll.addEventListener('click', guard(() => publish(data.drafts)));
  const checkAll = $('[data-action="check-all"]');
  if (checkAll) checkAll.addEventListener('click', guard(() => check(data.drafts)));

  // One document.
  if (data.id) {
    const source = $('#source');
    const gutter = $('#gutter');
    let problemLines = new Set();
    const drawGutter = () => {
      const n = source.value.split('\n').length;
      let out = '';
      for (let i = 1; i <= n; i += 1) out += (problemLines.has(i) ? '▶' : '') + i + '\n';
      gutter.textContent = out;
      gutter.scrollTop = source.scrollTop;
    };
    source.addEventListener('scroll', () => (gutter.scrollTop = source.scrollTop));
    let timer = null;
    let seq = 0;
    const validate = async () => {
      const mine = ++seq;
      const res = await call('POST', '/validate', { id: data.id, content: source.value });
      if (mine !== seq) return;
      problemLines = new Set(res.problems.map((p) => p.line).filter(Boolean));
      const box = $('#problems');
      box.innerHTML = '';
      const head = document.createElement('div');
      head.className = res.problems.length ? 'bad' : 'ok';
      head.textContent = res.problems.length ? w('editor.problems', { n: res.problems.length }) : w('editor.valid');
      box.appendChild(head);
      for (const p of res.problems) {
        const row = document.createElement('div');
        row.className = 'problem';
        row.dataset.line = p.line || '';
        row.textContent = `${p.line ? w('editor.line', { n: p.line }) : ''} ${p.path}: ${p.message}`;
        box.appendChild(row);
      }
      if (res.elsewhere) {
        const more = document.createElement('div');
        more.className = 'muted';
        more.textContent = w('editor.elsewhere', { n: res.elsewhere });
        box.appendChild(more);
      }
      drawGutter();
    };
    source.addEventListener('input', () => {
      drawGutter();
      clearTimeout(timer);
      timer = setTimeout(() => validate().catch((e) => result(e.message, true)), 250);
    });
    drawGutter();
    validate().catch(() => {});

    $$('[data-tab]').forEach((tab) =>
      tab.addEventListener('click', () => {
        $$('[data-tab]').forEach((t) => t.classList.toggle('on', t === tab));
        $$('[data-panel]').forEach((p) => (p.hidden = p.dataset.panel !== tab.dataset.tab));
        if (tab.dataset.tab === 'preview') drawPreview();
      }),
    );
    $('[data-action="save"]').addEventListener(
      'click',
      guard(async () => {
        const res = await call('PUT', '/draft', { id: data.id, content: source.value, comment: $('#comment').value });
        flash(w('editor.saved', { n: res.version.number }) + (res.problems.length ? ' — ' + w('editor.problems', { n: res.problems.length }) : ''), res.problems.length > 0);
      }),
    );
    const discard = $('[data-action="discard"]');
    if (discard) discard.addEventListener('click', guard(async () => { await call('DELETE', '/draft?id=' + encodeURIComponent(data.id)); location.reload(); }));
    const checkBtn = $('[data-action="check"]');
    if (checkBtn) checkBtn.addEventListener('click', guard(() => check([data.id])));
    const pub = $('[data-action="publish"]');
    if (pub) pub.addEventListener('click', guard(() => publish([data.id])));

    // Form view: one sentence in each locale, no YAML.
    $$('[data-action="save-wording"]').forEach((b) =>
      b.addEventListener(
        'click',
        guard(async () => {
          const item = data.wordings[Number(b.dataset.index)];
          const row = b.closest('tr');
          const texts = {};
          $$('textarea[data-locale]', row).forEach((ta) => {
            if (ta.value.trim()) texts[ta.dataset.locale] = ta.value;
          });
          const res = await call('PUT', '/wording', { id: data.id, path: item.path, texts, comment: $('#comment').value });
          flash(w('editor.saved', { n: res.version.number }) + (res.problems.length ? ' — ' + res.problems.map(problemText).join('; ') : ''), res.problems.length > 0);
        }),
      ),
    );

    // Side-by-side preview of a step in the three locales.
    const stepSelect = $('#preview-step');
    function drawPreview() {
      if (!stepSelect) return;
      const step = stepSelect.value;
      const items = (data.wordings || []).filter((x) => x.step === step);
      $$('[data-preview]').forEach((col) => {
        const l = col.dataset.preview;
        const box = $('.bubbles', col);
        box.innerHTML = '';
        for (const item of items.filter((x) => !x.field.startsWith('option '))) {
          const b = document.createElement('div');
          b.className = 'bubble';
          b.textContent = item.texts[l] || '—';
          box.appendChild(b);
        }
        const opts = items.filter((x) => x.field.startsWith('option '));
        if (opts.length) {
          const row = document.createElement('div');
          row.className = 'qrs';
          for (const o of opts) {
            const q = document.createElement('span');
            q.className = 'qr';
            q.textContent = o.texts[l] || '—';
            row.appendChild(q);
          }
          box.appendChild(row);
        }
      });
    }
    if (stepSelect) stepSelect.addEventListener('change', drawPreview);

    // History: diff, name, rollback.
    $$('[data-action="diff"]').forEach((a) =>
      a.addEventListener(
        'click',
        guard(async (ev) => {
          ev.preventDefault();
          const res = await fetch(a.href, { credentials: 'same-origin' }).then((r) => r.json());
          $('#diff').textContent = res.patch || (res.error && res.error.message) || '';
        }),
      ),
    );
    $$('[data-action="name"]').forEach((b) =>
      b.addEventListener(
        'click',
        guard(async () => {
          const name = prompt(w('editor.namePrompt'));
          if (name === null) return;
          await call('POST', '/versions/' + b.dataset.version + '/name', { name });
          location.reload();
        }),
      ),
    );
    $$('[data-action="rollback"]').forEach((b) =>
      b.addEventListener(
        'click',
        guard(async () => {
          await call('POST', '/rollback', { id: data.id, to: b.dataset.to, comment: ($('#comment') && $('#comment').value) || '' });
          flash(w('editor.rolledBack'));
        }),
      ),
    );
  }

  // Simulator: the turns so far are replayed on every message (nothing is stored).
  if (data.page === 'simulator') {
    let turns = [];
    const log = $('#sim-log');
    const customer = $('#sim-customer');
    const locale = $('#sim-locale');
    call('GET', '/customers').then((res) => {
      for (const c of res.customers) {
        const o = document.createElement('option');
        o.value = c.id;
        o.dataset.locale = c.locale;
        o.textContent = `${c.name || c.id} (${c.locale})`;
        customer.appendChild(o);
      }
      locale.value = customer.selectedOptions[0] ? customer.selectedOptions[0].dataset.locale : 'zh-Hans';
    });
    customer.addEventListener('change', () => {
      locale.value = customer.selectedOptions[0].dataset.locale;
      reset();
    });
    locale.addEventListener('change', () => reset());
    const reset = () => {
      turns = [];
      log.innerHTML = '';
    };
    $('[data-action="sim-reset"]').addEventListener('click', reset);
    const render = (res) => {
      log.innerHTML = '';
      res.turns.forEach((turn, i) => {
        const me = document.createElement('div');
        me.className = 'msg customer';
        me.textContent = turn.input.text;
        log.appendChild(me);
        turn.replies.forEach((r, j) => {
          const b = document.createElement('div');
          b.className = 'msg bot';
          b.textContent = r.text;
          const last = i === res.turns.length - 1 && j === turn.replies.length - 1;
          if (last && r.quickReplies.length) {
            const row = document.createElement('div');
            for (const q of r.quickReplies) {
              const btn = document.createElement('button');
              btn.type = 'button';
              btn.className = 'qr-btn';
              btn.textContent = q.label;
              btn.addEventListener('click', () => send(q.label, q.id));
              row.appendChild(btn);
            }
            b.appendChild(row);
          }
          log.appendChild(b);
        });
      });
      log.scrollTop = log.scrollHeight;
      const fx = res.effects;
      $('[data-effect="status"]').textContent = res.status + (res.flowId ? ` · ${res.flowId}` : '');
      $('[data-effect="handoff"]').textContent = fx.handoff ? `${fx.handoff} ${fx.ticketNumber || ''}` : '—';
      $('[data-effect="refunds"]').textContent = String(fx.refunds);
      $('[data-effect="complaints"]').textContent = String(fx.complaints);
    };
    const send = guard(async (text, choice) => {
      const next = turns.concat([{ text, choice: choice || null }]);
      const res = await call('POST', '/simulate', { customerId: customer.value, locale: locale.value, turns: next });
      turns = next;
      render(res);
    });
    $('#sim-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const input = $('#sim-text');
      const text = input.value.trim();
      if (!text) return;
      input.value = '';
      send(text, null);
    });
  }

  // Not understood: label an utterance, or add it as a phrase to the lexicon draft.
  $$('tr[data-text]').forEach((row) => {
    const intent = () => $('select', row).value;
    const lang = row.dataset.locale;
    const label = $('[data-action="label"]', row);
    label.addEventListener('click', guard(async () => {
      await call('POST', '/labels', { text: row.dataset.text, intent: intent(), lang });
      toast(w('notUnderstood.labelled'));
    }));
    $('[data-action="phrase"]', row).addEventListener('click', guard(async () => {
      await call('POST', '/lexicon/phrase', { intent: intent(), locale: lang, phrase: row.dataset.text });
      toast(w('notUnderstood.phraseAdded'));
    }));
  });
})();
