// The chat page: one WebSocket to the gateway, speaking the "chat" subprotocol, with rooms, a
// display name, the members of the current room, history, and resume after a reconnect.
// Everything received (messages, names, room names) is rendered with textContent, never as HTML.
// The socket address comes from /config.json, or from ?ws=<url> to use the page against a
// deployed endpoint.
(function () {
  'use strict';

  var LOBBY = 'lobby';
  // As the server checks it; checked here too, so a typo is answered at once.
  var ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
  var MESSAGE_ID = /^[0-9a-z]{18}$/;
  // What a history answer holds at most: a full one may have left older messages out.
  var HISTORY_LIMIT = 100;
  var MIN_DELAY = 500;
  var MAX_DELAY = 15000;
  var KEYS = { token: 'chat-admission-token', name: 'chat-name', rooms: 'chat-rooms', current: 'chat-room', seen: 'chat-last-seen' };

  var logEl = document.getElementById('log');
  var stateEl = document.getElementById('state');
  var onlineEl = document.getElementById('online');
  var meEl = document.getElementById('me');
  var composer = document.getElementById('composer');
  var input = document.getElementById('message');
  var sendButton = document.getElementById('send');
  var admissionForm = document.getElementById('admission');
  var tokenInput = document.getElementById('token');
  var roomsEl = document.getElementById('rooms');
  var joinForm = document.getElementById('join-form');
  var joinInput = document.getElementById('join-room');
  var joinButton = document.getElementById('join');
  var joinError = document.getElementById('join-error');
  var profileForm = document.getElementById('profile-form');
  var nameInput = document.getElementById('name');
  var nameButton = document.getElementById('save-name');
  var nameNote = document.getElementById('name-note');
  var membersEl = document.getElementById('members');
  var memberCountEl = document.getElementById('member-count');
  var roomTitle = document.getElementById('room-title');

  var config = null;
  var socket = null;
  var attempt = 0;
  var retryTimer = null;
  var failureLine = null;
  var failures = 0;

  /** name → room state; `order` is the room list's order. */
  var rooms = {};
  var order = [];
  var current = LOBBY;
  /** This connection's user, once known (from a profile answer, or a token's claims). */
  var me = null;
  /** Requests sent on this socket that await their answer, oldest first: answers come in order. */
  var outstanding = [];
  /** Ids of messages this page sent, so history shows them as its own. */
  var ownIds = {};
  /** The last message id seen per room, kept across page loads: marks what is new on the next visit. */
  var lastSeenStored = readJson(KEYS.seen, {});

  // --- storage: may be off (private browsing); the page then just forgets on reload ---

  function readItem(key) {
    try {
      return localStorage.getItem(key);
    } catch (e) {
      return null;
    }
  }

  function writeItem(key, value) {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch (e) {
      // Storage unavailable: the page still works, it just does not remember.
    }
  }

  function readJson(key, fallback) {
    try {
      var value = JSON.parse(readItem(key) || 'null');
      return value && typeof value === 'object' ? value : fallback;
    } catch (e) {
      return fallback;
    }
  }

  function saveRooms() {
    writeItem(
      KEYS.rooms,
      JSON.stringify(
        order.filter(function (name) {
          return name !== LOBBY;
        }),
      ),
    );
    writeItem(KEYS.current, current);
  }

  // --- rendering helpers ---

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /** A user's name, with a mark when it is not verified (anyone can pick any unverified name). */
  function userNode(user) {
    var node = el('span', 'user');
    node.dataset.userId = user.id;
    node.dataset.verified = user.verified ? 'true' : 'false';
    node.appendChild(el('span', 'user-name', user.name || user.id));
    if (!user.verified) {
      var mark = el('span', 'unverified', '~');
      mark.title = 'unverified: a name anyone could choose';
      node.appendChild(mark);
    }
    return node;
  }

  function time(iso) {
    var d = iso ? new Date(iso) : new Date();
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  function isUser(value) {
    return value && typeof value === 'object' && typeof value.id === 'string';
  }

  // --- rooms ---

  function room(name) {
    return Object.prototype.hasOwnProperty.call(rooms, name) ? rooms[name] : null;
  }

  function addRoom(name) {
    var existing = room(name);
    if (existing) return existing;
    var state = {
      name: name,
      log: el('section', 'room-log'),
      item: el('li', 'room'),
      unreadEl: el('span', 'unread'),
      members: {},
      online: null,
      joined: false,
      ids: {},
      lastId: '',
      unread: 0,
      // What was last seen here on an earlier visit: the first history marks what came after it.
      visitMark: typeof lastSeenStored[name] === 'string' ? lastSeenStored[name] : '',
    };
    state.log.dataset.room = name;
    state.log.hidden = true;
    logEl.appendChild(state.log);

    state.item.dataset.room = name;
    state.item.dataset.joined = 'false';
    var open = el('button', 'room-open', name);
    open.type = 'button';
    open.addEventListener('click', function () {
      select(name);
    });
    state.item.appendChild(open);
    state.item.appendChild(state.unreadEl);
    if (name !== LOBBY) {
      // The lobby is home: every connection is put there anyway.
      var leave = el('button', 'room-leave', '×');
      leave.type = 'button';
      leave.title = 'leave ' + name;
      leave.setAttribute('aria-label', 'leave ' + name);
      leave.addEventListener('click', function () {
        leaveRoom(name);
      });
      state.item.appendChild(leave);
    }
    roomsEl.appendChild(state.item);
    rooms[name] = state;
    order.push(name);
    saveRooms();
    return state;
  }

  function removeRoom(name) {
    var state = room(name);
    if (!state || name === LOBBY) return;
    state.log.remove();
    state.item.remove();
    delete rooms[name];
    order.splice(order.indexOf(name), 1);
    if (current === name) select(LOBBY);
    saveRooms();
  }

  function select(name) {
    var state = room(name) || room(LOBBY);
    current = state.name;
    for (var i = 0; i < order.length; i++) {
      var other = rooms[order[i]];
      var isCurrent = other === state;
      other.log.hidden = !isCurrent;
      other.item.classList.toggle('current', isCurrent);
      if (isCurrent) other.item.setAttribute('aria-current', 'true');
      else other.item.removeAttribute('aria-current');
    }
    state.unread = 0;
    renderUnread(state);
    roomTitle.textContent = state.name;
    input.placeholder = 'Message ' + state.name;
    renderMembers();
    renderOnline();
    saveRooms();
    scrollDown(state);
  }

  function renderUnread(state) {
    state.unreadEl.textContent = state.unread ? String(state.unread) : '';
    state.item.dataset.unread = String(state.unread);
  }

  function renderOnline() {
    var state = rooms[current];
    if (state.online === null) {
      onlineEl.textContent = '– online';
      delete onlineEl.dataset.count;
    } else {
      onlineEl.textContent = state.online + ' online';
      onlineEl.dataset.count = String(state.online);
    }
  }

  function setOnline(state, n) {
    if (typeof n !== 'number') return;
    state.online = n;
    if (state.name === current) {
      renderOnline();
      memberCountEl.textContent = memberSummary(state);
    }
  }

  function memberSummary(state) {
    var count = Object.keys(state.members).length;
    return state.joined ? count + (state.online !== null ? ' · ' + state.online + ' online' : '') : '';
  }

  function renderMembers() {
    var state = rooms[current];
    var users = Object.keys(state.members).map(function (id) {
      return state.members[id];
    });
    users.sort(function (a, b) {
      return String(a.name).localeCompare(String(b.name)) || (a.id < b.id ? -1 : 1);
    });
    membersEl.replaceChildren();
    users.forEach(function (user) {
      var item = el('li', 'member');
      item.dataset.userId = user.id;
      item.appendChild(userNode(user));
      if (me && me.id === user.id) {
        item.classList.add('self');
        item.appendChild(el('span', 'muted', ' (you)'));
      }
      membersEl.appendChild(item);
    });
    memberCountEl.textContent = memberSummary(state);
  }

  function setJoined(state, joined) {
    state.joined = joined;
    state.item.dataset.joined = joined ? 'true' : 'false';
  }

  function setMember(state, user, present) {
    if (present) state.members[user.id] = user;
    else delete state.members[user.id];
    if (state.name === current) renderMembers();
  }

  // --- the log ---

  function scrollDown(state) {
    if (state.name === current) logEl.scrollTop = logEl.scrollHeight;
  }

  function addSystem(state, text, kind) {
    var target = state || rooms[current];
    var item = el('div', 'system' + (kind ? ' ' + kind : ''), text);
    target.log.appendChild(item);
    scrollDown(target);
    return item;
  }

  function remember(state, id) {
    state.ids[id] = true;
    // Ids sort in time order within a room (fixed length, [0-9a-z]); only such an id can be `since`.
    if (MESSAGE_ID.test(id) && id > state.lastId) {
      state.lastId = id;
      lastSeenStored[state.name] = id;
      writeItem(KEYS.seen, JSON.stringify(lastSeenStored));
    }
  }

  /** Inserts a message by id: one that raced ahead of older history still ends up in order. */
  function insertById(state, item, id) {
    var before = null;
    for (var node = state.log.lastElementChild; node && node.dataset.id && node.dataset.id > id; node = node.previousElementSibling) before = node;
    state.log.insertBefore(item, before);
  }

  function messageItem(from, text, sentAt, mine) {
    var item = el('div', 'msg' + (mine ? ' mine' : ''));
    var meta = el('span', 'meta');
    if (mine) meta.appendChild(el('span', 'user', 'you'));
    else if (isUser(from)) meta.appendChild(userNode(from));
    else meta.appendChild(el('span', 'user', typeof from === 'string' ? from : 'someone'));
    meta.appendChild(document.createTextNode(' · '));
    meta.appendChild(el('time', null, time(sentAt)));
    if (sentAt) meta.lastChild.setAttribute('datetime', sentAt);
    item.appendChild(meta);
    item.appendChild(el('span', 'text', text));
    return item;
  }

  /** Renders a message someone said in a room, unless it was already shown (it may come live and in history). */
  function addMessage(state, msg, live) {
    if (typeof msg.id !== 'string' || state.ids[msg.id]) return;
    var mine = Boolean(ownIds[msg.id] || (me && isUser(msg.from) && msg.from.id === me.id));
    var item = messageItem(msg.from, msg.text, msg.sentAt, mine);
    item.dataset.id = msg.id;
    if (state.visitMark && msg.id > state.visitMark && !state.log.querySelector('.divider')) {
      var divider = el('div', 'divider', 'new since your last visit');
      divider.dataset.id = state.visitMark;
      insertById(state, divider, state.visitMark);
    }
    insertById(state, item, msg.id);
    remember(state, msg.id);
    if (isUser(msg.from) && state.members[msg.from.id] && state.members[msg.from.id].name !== msg.from.name) {
      // A renamed member: messages carry the current name.
      setMember(state, msg.from, true);
    }
    if (live && state.name !== current) {
      state.unread += 1;
      renderUnread(state);
    }
    scrollDown(state);
  }

  // --- me ---

  function setMe(user) {
    me = user;
    meEl.replaceChildren();
    if (user) {
      meEl.appendChild(document.createTextNode('you are '));
      meEl.appendChild(userNode(user));
    }
    var locked = Boolean(user && user.verified);
    nameInput.disabled = locked;
    nameButton.disabled = locked;
    if (locked) {
      nameInput.value = user.name;
      nameNote.textContent = 'verified: your name comes from your admission token';
    }
    renderMembers();
  }

  /** The user a token's claims name (`<expiry>.<claims>.<signature>`); the server checks the signature. */
  function claimsOf(token) {
    var parts = token.split('.');
    if (parts.length !== 3) return null;
    try {
      var b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
      var bytes = Uint8Array.from(atob(b64 + '==='.slice((b64.length + 3) % 4)), function (c) {
        return c.charCodeAt(0);
      });
      var claims = JSON.parse(new TextDecoder().decode(bytes));
      return typeof claims.sub === 'string' ? { id: claims.sub, name: String(claims.name || claims.sub), verified: true } : null;
    } catch (e) {
      return null;
    }
  }

  // --- the socket ---

  function open() {
    return socket && socket.readyState === WebSocket.OPEN;
  }

  function request(body, entry) {
    socket.send(JSON.stringify(body));
    entry.kind = body.type;
    outstanding.push(entry);
  }

  /** Removes and returns the oldest outstanding request matching `test`. */
  function answered(test) {
    for (var i = 0; i < outstanding.length; i++) {
      if (test(outstanding[i])) return outstanding.splice(i, 1)[0];
    }
    return null;
  }

  function setState(state, label) {
    stateEl.dataset.state = state;
    stateEl.textContent = label || state;
    var isOpen = state === 'open';
    input.disabled = !isOpen;
    sendButton.disabled = !isOpen;
    joinButton.disabled = !isOpen;
  }

  function protocols() {
    if (!config.admission) return ['chat'];
    var token = tokenInput.value.trim();
    return token ? ['chat', token] : ['chat'];
  }

  function sendProfile(name) {
    request({ type: 'profile', name: name }, { name: name });
  }

  function sendJoin(name, andSelect) {
    var state = room(name);
    var body = { type: 'join', room: name };
    // Resume: only what was said after the last message seen here.
    if (state && state.lastId) body.since = state.lastId;
    request(body, { room: name, since: body.since || '', select: Boolean(andSelect) });
  }

  /** After every (re)connect: the name first, so the rooms' members see it, then every room. */
  function resume() {
    var name = readItem(KEYS.name);
    if (name && !(me && me.verified)) sendProfile(name);
    for (var i = 0; i < order.length; i++) sendJoin(order[i], false);
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    setState(attempt === 0 ? 'connecting' : 'reconnecting', attempt === 0 ? 'connecting' : 'reconnecting');
    var opened = false;
    var ws;
    try {
      ws = new WebSocket(config.wsUrl, protocols());
    } catch (err) {
      addSystem(null, 'cannot connect: ' + err.message, 'error');
      setState('closed');
      return;
    }
    socket = ws;
    ws.binaryType = 'arraybuffer';
    if (config.admission) {
      var claimed = claimsOf(tokenInput.value.trim());
      if (claimed) setMe(claimed);
    }
    ws.onopen = function () {
      opened = true;
      attempt = 0;
      failureLine = null;
      outstanding = [];
      setState('open', 'connected');
      addSystem(null, 'connected');
      resume();
    };
    ws.onmessage = function (event) {
      if (ws === socket) receive(event.data);
    };
    ws.onclose = function (event) {
      if (ws !== socket) return;
      socket = null;
      failPending('not confirmed: the connection closed');
      for (var i = 0; i < order.length; i++) setJoined(rooms[order[i]], false);
      if (!opened && config.admission && !tokenInput.value.trim()) {
        setState('refused', 'token needed');
        addSystem(null, 'this chat needs an admission token', 'error');
        return;
      }
      // Exponential backoff with jitter, so a restarted gateway is not hit by every tab at once.
      var delay = Math.min(MAX_DELAY, MIN_DELAY * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      attempt += 1;
      setState('reconnecting', 'reconnecting in ' + Math.ceil(delay / 1000) + ' s');
      if (opened) addSystem(null, 'disconnected (' + (event.code || 'no code') + (event.reason ? ': ' + event.reason : '') + ')');
      else failedAgain();
      retryTimer = setTimeout(connect, delay);
    };
  }

  /** One line for a run of failed attempts, counting them, rather than one line each. */
  function failedAgain() {
    failures += 1;
    if (failureLine && failureLine.parentNode && failureLine === failureLine.parentNode.lastElementChild) {
      failureLine.textContent = 'could not connect (' + failures + ' attempts)';
      return;
    }
    failures = 1;
    failureLine = addSystem(null, 'could not connect', 'error');
  }

  function failPending(reason) {
    outstanding.forEach(function (entry) {
      if (entry.kind === 'message') markFailed(entry.item, reason);
    });
    outstanding = [];
  }

  function markFailed(item, reason) {
    item.classList.remove('pending');
    item.classList.add('failed');
    item.title = reason;
  }

  function receive(data) {
    if (typeof data !== 'string') {
      // Binary frames are relayed to the lobby; they have no id and are not kept.
      showUnkept('[binary message, ' + data.byteLength + ' bytes]');
      return;
    }
    var msg;
    try {
      msg = JSON.parse(data);
    } catch (e) {
      msg = null;
    }
    if (!msg || typeof msg !== 'object') {
      showUnkept(data);
      return;
    }
    var state = typeof msg.room === 'string' ? room(msg.room) : msg.type === 'message' ? rooms[LOBBY] : null;
    switch (msg.type) {
      case 'message':
        // A room this page left meanwhile is not shown.
        if (!state) return;
        addMessage(state, msg, true);
        setOnline(state, msg.online);
        return;
      case 'history':
        if (!state || !Array.isArray(msg.messages)) return;
        msg.messages.forEach(function (m) {
          addMessage(state, m, false);
        });
        state.visitMark = '';
        if (state.resumedFrom && msg.messages.length >= HISTORY_LIMIT) addSystem(state, 'earlier messages from while you were away are not shown');
        state.resumedFrom = '';
        return;
      case 'joined':
        onJoined(msg);
        return;
      case 'presence':
        if (!state || !isUser(msg.user)) return;
        setOnline(state, msg.online);
        if (msg.event === 'join' || msg.event === 'leave') {
          setMember(state, msg.user, msg.event === 'join');
          addSystem(state, (msg.user.name || msg.user.id) + (msg.event === 'join' ? ' joined' : ' left'), 'presence');
        } else if (state.members[msg.user.id]) {
          // Any other event about a member (a new name, say) updates its entry.
          setMember(state, msg.user, true);
        }
        return;
      case 'ack':
        onAck(msg, state);
        return;
      case 'left':
        answered(function (e) {
          return e.kind === 'leave' && e.room === msg.room;
        });
        return;
      case 'profile':
        answered(function (e) {
          return e.kind === 'profile';
        });
        if (isUser(msg.user)) onProfile(msg.user);
        return;
      case 'direct': {
        var item = messageItem(msg.from, msg.text, msg.sentAt, false);
        item.classList.add('direct');
        item.firstChild.appendChild(document.createTextNode(' · direct'));
        rooms[current].log.appendChild(item);
        scrollDown(rooms[current]);
        return;
      }
      case 'error':
        onError(msg);
        return;
    }
  }

  function showUnkept(text) {
    rooms[LOBBY].log.appendChild(messageItem('someone', text, null, false));
    scrollDown(rooms[LOBBY]);
  }

  function onJoined(msg) {
    var entry = answered(function (e) {
      return e.kind === 'join' && e.room === msg.room;
    });
    if ((entry && entry.cancelled) || typeof msg.room !== 'string' || !ROOM_NAME.test(msg.room)) return;
    var state = addRoom(msg.room);
    setJoined(state, true);
    // Who this page is, as the others see it; a name being set meanwhile is not undone.
    if (isUser(msg.you) && (!me || me.id !== msg.you.id)) setMe(msg.you);
    state.resumedFrom = (entry && entry.since) || '';
    // The list as it is now: whoever left while this page was away is gone from it.
    state.members = {};
    (Array.isArray(msg.members) ? msg.members : []).forEach(function (user) {
      if (isUser(user)) state.members[user.id] = user;
    });
    setOnline(state, msg.online);
    if (entry && entry.select) select(msg.room);
    else if (state.name === current) renderMembers();
  }

  function onAck(msg, state) {
    var entry = answered(function (e) {
      return e.kind === 'message' && e.room === msg.room;
    });
    if (!state) return;
    setOnline(state, msg.online);
    if (typeof msg.id !== 'string') return;
    ownIds[msg.id] = true;
    if (entry && entry.item) {
      entry.item.classList.remove('pending');
      entry.item.title = 'delivered to ' + msg.delivered;
      // Left where it was typed, so it does not jump; later messages are placed after it.
      entry.item.dataset.id = msg.id;
    }
    remember(state, msg.id);
  }

  function onProfile(user) {
    setMe(user);
    nameInput.value = user.name;
    nameNote.textContent = user.verified ? 'verified: your name comes from your admission token' : 'unverified: anyone can choose any name';
    // Our own entries in the member lists carry the new name.
    order.forEach(function (name) {
      var state = rooms[name];
      if (state.members[user.id]) state.members[user.id] = user;
    });
    renderMembers();
  }

  function onError(msg) {
    var text = typeof msg.message === 'string' ? msg.message : String(msg.code);
    // Errors carry no request id: it answers the oldest request still waiting.
    var entry = outstanding.shift();
    if (!entry) {
      addSystem(null, text, 'error');
      return;
    }
    if (entry.kind === 'message') {
      markFailed(entry.item, 'not sent: ' + text);
      addSystem(room(entry.room), 'not sent: ' + text, 'error');
    } else if (entry.kind === 'join') {
      if (msg.code === 'BAD_SINCE' && room(entry.room)) {
        // The kept position is unusable: take the room's recent history instead.
        rooms[entry.room].lastId = '';
        sendJoin(entry.room, entry.select);
        return;
      }
      showJoinError('cannot join ' + entry.room + ': ' + text);
      var state = room(entry.room);
      if (state && !state.joined) addSystem(state, 'cannot join: ' + text, 'error');
    } else if (entry.kind === 'profile') {
      if (msg.code === 'NAME_LOCKED') {
        writeItem(KEYS.name, null);
        nameNote.textContent = 'verified: your name comes from your admission token';
        nameInput.disabled = true;
        nameButton.disabled = true;
      } else {
        // Not re-sent after the next reconnect.
        if (readItem(KEYS.name) === entry.name) writeItem(KEYS.name, null);
        nameNote.textContent = 'name not set: ' + text;
      }
    } else if (msg.code !== 'NOT_IN_ROOM') {
      addSystem(null, text, 'error');
    }
  }

  function showJoinError(text) {
    joinError.textContent = text;
    joinError.hidden = !text;
  }

  function leaveRoom(name) {
    // A join still on its way is then answered for a room no longer shown.
    outstanding.forEach(function (entry) {
      if (entry.kind === 'join' && entry.room === name) entry.cancelled = true;
    });
    // Left at once here; the server's answer only confirms it.
    if (open()) request({ type: 'leave', room: name }, { room: name });
    removeRoom(name);
  }

  // --- forms ---

  composer.addEventListener('submit', function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text || !open()) return;
    var state = rooms[current];
    var item = messageItem('you', text, null, true);
    item.classList.add('pending');
    state.log.appendChild(item);
    request({ type: 'message', room: state.name, text: text }, { room: state.name, item: item });
    scrollDown(state);
    input.value = '';
    input.focus();
  });

  joinForm.addEventListener('submit', function (event) {
    event.preventDefault();
    var name = joinInput.value.trim();
    if (!name) return;
    if (!ROOM_NAME.test(name)) {
      showJoinError('not a room name: "' + name + '" (1–64 letters, digits, _ or -)');
      return;
    }
    showJoinError('');
    joinInput.value = '';
    if (room(name)) {
      select(name);
      return;
    }
    if (open()) sendJoin(name, true);
  });

  profileForm.addEventListener('submit', function (event) {
    event.preventDefault();
    var name = nameInput.value.trim();
    if (!name || (me && me.verified)) return;
    writeItem(KEYS.name, name);
    if (open()) sendProfile(name);
    else nameNote.textContent = 'will be set when connected';
  });

  admissionForm.addEventListener('submit', function (event) {
    event.preventDefault();
    writeItem(KEYS.token, tokenInput.value.trim());
    var old = socket;
    socket = null;
    if (old) old.close(1000);
    failPending('not confirmed: the connection closed');
    attempt = 0;
    connect();
  });

  // Back online: no need to wait for the backoff.
  window.addEventListener('online', function () {
    if (!socket && retryTimer !== null) connect();
  });

  function start(loaded) {
    config = loaded;
    var override = new URLSearchParams(location.search).get('ws');
    if (override) config.wsUrl = override;
    document.getElementById('stack').textContent = config.stack || '';
    if (config.admission) {
      admissionForm.hidden = false;
      tokenInput.value = readItem(KEYS.token) || '';
    }
    connect();
  }

  // The rooms of the last visit, the lobby first.
  // Read before the first addRoom, which writes the list.
  var lastCurrent = readItem(KEYS.current);
  var lastRooms = readJson(KEYS.rooms, []);
  addRoom(LOBBY);
  lastRooms.forEach(function (name) {
    if (typeof name === 'string' && ROOM_NAME.test(name)) addRoom(name);
  });
  nameInput.value = readItem(KEYS.name) || '';
  select(lastCurrent || LOBBY);

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
        addSystem(null, 'no WebSocket endpoint: open this page with ?ws=wss://…', 'error');
        return;
      }
      start(loaded);
    });
})();
