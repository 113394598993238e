/**
 * Preloaded into every web-function instance (`node --require`): ends the instance once the local
 * cloud that started it is gone (killed before it could stop its instances), which shows as a new
 * parent. It holds no handle open: an instance that would exit on its own still does.
 */
'use strict';
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(1);
}, 1000).unref();
