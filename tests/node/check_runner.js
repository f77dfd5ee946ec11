// What the amqplib check scripts (amqplib_checks.js, work_queue_checks.js)
// share: a wait with a deadline, and the runner of one subcommand.
//
// run(script, checks): `node SCRIPT NAME ARGS...` connects to AMQP_URL
// (default amqp://localhost), calls checks[NAME](conn, ...ARGS), prints its
// result as one JSON object on stdout and exits 0; an unknown NAME exits 2
// with the usage, any error exits 1 with the reason on stderr.
'use strict';

var amqp = require('amqplib');

var URL = process.env.AMQP_URL || 'amqp://localhost';

// promise, or a rejection naming `what` after ms (10 s unless given)
function within(promise, what, ms) {
  var timer;
  var timeout = new Promise(function (_resolve, reject) {
    timer = setTimeout(function () { reject(new Error('timed out waiting for ' + what)); }, ms || 10000);
  });
  return Promise.race([promise, timeout]).finally(function () { clearTimeout(timer); });
}

async function main(script, checks) {
  var name = process.argv[2];
  if (!checks[name]) {
    console.error('usage: ' + script + ' ' + Object.keys(checks).join('|') + ' ARGS...');
    process.exit(2);
  }
  var conn = await amqp.connect(URL);
  conn.on('error', function (err) { console.error('connection error: ' + err.message); });
  var result = await checks[name].apply(null, [conn].concat(process.argv.slice(3)));
  await conn.close();
  console.log(JSON.stringify(result));
}

function run(script, checks) {
  main(script, checks).catch(function (err) {
    console.error(err && err.stack || String(err));
    process.exit(1);
  });
}

module.exports = { URL: URL, within: within, run: run };
