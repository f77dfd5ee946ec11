// Preloaded into the tutorial's worker.js by the tests
// (`node --require ./worker_hooks.js worker.js`), so the tutorial's file stays
// as published and still runs fast and observably under test.  It wraps the
// consume callback of amqplib's callback_api channels:
//
//   WORKER_DOT_MS=N   while the callback runs, setTimeout delays are scaled so
//                     one second of the tutorial's "work" (one dot) takes N ms;
//   WORKER_DEBUG=1    after the callback's own " [x] Received ..." line, print
//                     " [debug] redelivered=<true|false>" for the delivery.
//
// Nothing else changes: the same amqplib, the same frames on the wire.  With
// neither variable set the worker behaves exactly as the tutorial's.
'use strict';

var Channel = require('amqplib/lib/callback_model').Channel;

var dotMs = process.env.WORKER_DOT_MS ? Number(process.env.WORKER_DOT_MS) : null;
var debug = Boolean(process.env.WORKER_DEBUG);
var consume = Channel.prototype.consume;

Channel.prototype.consume = function (queue, callback, options, cb0) {
  function wrapped(msg) {
    var realSetTimeout = global.setTimeout;
    if (dotMs !== null) {
      global.setTimeout = function (fn, ms) {
        var rest = Array.prototype.slice.call(arguments, 2);
        return realSetTimeout.apply(null, [fn, ms * dotMs / 1000].concat(rest));
      };
    }
    try {
      return callback(msg);
    } finally {
      global.setTimeout = realSetTimeout;
      if (debug && msg)
        console.log(' [debug] redelivered=%s', msg.fields.redelivered);
    }
  }
  return consume.call(this, queue, wrapped, options, cb0);
};
