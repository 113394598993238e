// The chat page: one WebSocket to the gateway, speaking the "chat" subprotocol. Every message is
// rendered with textContent, never as HTML. The socket address comes from /config.json, or from
// ?ws=<url> to use the page against a deployed endpoint.
(function () {
  'use strict';

  var log = document.getElementById('log');
  var stateEl = document.getElementById('state');
  var onlineEl = document.getElementById('online');
  var composer = document.getElementById('composer');
  var input = document.getElementById('message');
  var sendButton = document.getElementById('send');
  var admissionForm = document.getElementById('admission');
  var tokenInput = document.getElementById('token');

  var config = null;
  var socket = null;
  var attempt = 0;
  var retryTimer = null;
  var MIN_DELAY = 500;
  var MAX_DELAY = 15000;

  function setState(state, label) {
    stateEl.dataset.state = state;
    stateEl.textContent = label || state;
    var open = state === 'open';
    input.disabled = !open;
    sendButton.disabled = !open;
  }

  function setOnline(n) {
    onlineEl.textContent = n + ' online';
    onlineEl.dataset.count = String(n);
  }

  function time(iso) {
    var d = iso ? new Date(iso) : new Date();
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function addMessage(from, text, sentAt, mine) {
    var item = document.createElement('div');
    item.className = 'msg' + (mine ? ' mine' : '');
    var meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = (mine ? 'you' : from) + ' · ' + time(sentAt);
    var body = document.createElement('span');
    body.className = 'text';
    body.textContent = text;
    item.appendChild(meta);
    item.appendChild(body);
    log.appendChild(item);
    scrollDown();
    return item;
  }

  function addSystem(text, isError) {
    var item = document.createElement('div');
    item.className = 'system' + (isError ? ' error' : '');
    item.textContent = text;
    log.appendChild(item);
    scrollDown();
  }

  function protocols() {
    if (!config.admission) return ['chat'];
    var token = tokenInput.value.trim();
    return token ? ['chat', token] : ['chat'];
  }

  function connect() {
    clearTimeout(retryTimer);
    setState(attempt === 0 ? 'connecting' : 'reconnecting', attempt === 0 ? 'connecting' : 'reconnecting');
    var opened = false;
    try {
      socket = new WebSocket(config.wsUrl, protocols());
    } catch (err) {
      addSystem('cannot connect: ' + err.message, true);
      setState('closed');
      return;
    }
    socket.binaryType = 'arraybuffer';
    socket.onopen = function () {
      opened = true;
      attempt = 0;
      setState('open', 'connected');
      addSystem('connected');
    };
    socket.onmessage = function (event) {
      if (typeof event.data !== 'string') {
        addMessage('someone', '[binary message, ' + event.data.byteLength + ' bytes]', null, false);
        return;
      }
      var msg;
      try {
        msg = JSON.parse(event.data);
      } catch (e) {
        addMessage('someone', event.data, null, false);
        return;
      }
      if (msg.type === 'message') {
        addMessage(msg.from, msg.text, msg.sentAt, false);
        setOnline(msg.online);
      } else if (msg.type === 'ack') {
        setOnline(msg.online);
        var pending = log.querySelector('.msg.mine.pending');
        if (pending) {
          pending.classList.remove('pending');
          pending.title = 'delivered to ' + msg.delivered;
        }
      } else if (msg.type === 'error') {
        addSystem('not sent: ' + msg.message, true);
      }
    };
    socket.onclose = function (event) {
      socket = null;
      if (!opened && config.admission && !tokenInput.value.trim()) {
        setState('refused', 'token needed');
        addSystem('this chat needs an admission token', true);
        return;
      }
      // Exponential backoff with jitter, so a restarted gateway is not hit by every tab at once.
      var delay = Math.min(MAX_DELAY, MIN_DELAY * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      attempt += 1;
      setState('reconnecting', 'reconnecting in ' + Math.ceil(delay / 1000) + ' s');
      addSystem(opened ? 'disconnected (' + (event.code || 'no code') + (event.reason ? ': ' + event.reason : '') + ')' : 'could not connect');
      retryTimer = setTimeout(connect, delay);
    };
  }

  composer.addEventListener('submit', function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ type: 'message', text: text }));
    var item = addMessage('you', text, null, true);
    item.classList.add('pending');
    input.value = '';
    input.focus();
  });

  admissionForm.addEventListener('submit', function (event) {
    event.preventDefault();
    try {
      localStorage.setItem('chat-admission-token', tokenInput.value.trim());
    } catch (e) {
      // Storage may be unavailable (private mode); the token still works for this page.
    }
    if (socket) socket.close(1000);
    attempt = 0;
    connect();
  });

  function start(loaded) {
    config = loaded;
    var override = new URLSearchParams(location.search).get('ws');
    if (override) config.wsUrl = override;
    document.getElementById('stack').textContent = config.stack || '';
    if (config.admission) {
      admissionForm.hidden = false;
      try {
        tokenInput.value = localStorage.getItem('chat-admission-token') || '';
      } catch {
        // Storage can be off (private browsing): the field just starts empty.
      }
    }
    connect();
  }

  fetch('config.json', { cache: 'no-store' })
    .then(function (res) {
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return res.json();
    })
    .catch(function () {
      // Served from elsewhere (a static host): ?ws= must name the endpoint.
      return { wsUrl: '', admission: new URLSearchParams(location.search).has('admission'), stack: '' };
    })
    .then(function (loaded) {
      if (!loaded.wsUrl && !new URLSearchParams(location.search).get('ws')) {
        setState('closed', 'no endpoint');
        addSystem('no WebSocket endpoint: open this page with ?ws=wss://…', true);
        return;
      }
      start(loaded);
    });
})();
