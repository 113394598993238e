/**
 * Web mode's Redis keys and pub/sub channels, all under one optional prefix (empty by default: a
 * stack has its own Redis).
 *
 *   conn:<conn>        string   the connection's record (JSON), expiring unless its instance refreshes it
 *   conns              zset     every connection, scored by when its instance last refreshed it
 *   room:<room>        hash     the room's members: <conn> -> {"user":{...},"explicit":bool}
 *   member:<conn>      hash     the connection's rooms: <room> -> "j" (joined) | "a" (put there at connect); expiring
 *   user:<user id>     set      the user's connections
 *   history:<room>     zset     the room's kept messages, all at score 0 so they sort by member: "<id> <entry JSON>"
 *   app:keys           zset     the app store's keys (score 0: byte order)
 *   app:values         hash     the app store's values
 *   app:mtimes         hash     when each store key was written (ms)
 *   seq:<channel>      string   how many messages were published on a channel (for counting what a gap lost)
 *
 *   ch:all             every connection (ctx.broadcast)
 *   ch:room:<room>     a room's members
 *   ch:conn:<conn>     one connection (send and close from elsewhere)
 *   ch:user:<user id>  every connection of a user
 */
export class RedisKeys {
  constructor(readonly prefix = '') {}

  record(connectionId: string): string {
    return `${this.prefix}conn:${connectionId}`;
  }
  get connections(): string {
    return `${this.prefix}conns`;
  }
  room(room: string): string {
    return `${this.prefix}room:${room}`;
  }
  memberships(connectionId: string): string {
    return `${this.prefix}member:${connectionId}`;
  }
  user(userId: string): string {
    return `${this.prefix}user:${userId}`;
  }
  history(room: string): string {
    return `${this.prefix}history:${room}`;
  }
  get storeKeys(): string {
    return `${this.prefix}app:keys`;
  }
  get storeValues(): string {
    return `${this.prefix}app:values`;
  }
  get storeTimes(): string {
    return `${this.prefix}app:mtimes`;
  }
  /** The publish counter of a channel (a channel name from this class). */
  seq(channel: string): string {
    return `${this.prefix}seq:${channel.slice(this.prefix.length)}`;
  }

  get allChannel(): string {
    return `${this.prefix}ch:all`;
  }
  roomChannel(room: string): string {
    return `${this.prefix}ch:room:${room}`;
  }
  connectionChannel(connectionId: string): string {
    return `${this.prefix}ch:conn:${connectionId}`;
  }
  userChannel(userId: string): string {
    return `${this.prefix}ch:user:${userId}`;
  }
}
