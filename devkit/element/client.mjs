// A committee member on the stack Element uses: matrix-js-sdk with its Rust crypto.
//
// devkit/element.py starts it with one JSON argument (homeserver, user, password, device) and
// talks to it in JSON lines: it prints {"ready": ...} once logged in, cross-signed (as Element
// does at first login) and synced, then every event it can read, as Element sees it (a
// thread's events carry the thread's root as the SDK computes it; a poll's start is parsed
// with the SDK's own poll model), and the answer to each request read from stdin:
//   {"id": n, "op": "send", "room": R, "body": B, "thread": ROOT?}   a message, in a thread
//   {"id": n, "op": "vote", "room": R, "poll": START, "answer": ID}  a poll answer
// Node 20 lacks Promise.withResolvers, which the SDK uses: it is added first.
import readline from "node:readline";
import util from "node:util";

// stdout is for the protocol alone: the SDK's and the crypto's logs go to stderr.
for (const level of ["log", "info", "debug", "trace", "warn", "error"]) {
  console[level] = (...parts) => process.stderr.write(util.format(...parts) + "\n");
}

if (!Promise.withResolvers) {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}

const sdk = await import("matrix-js-sdk");
const { PollStartEvent } = await import("matrix-js-sdk/lib/extensible_events_v1/PollStartEvent.js");
const { PollResponseEvent } = await import(
  "matrix-js-sdk/lib/extensible_events_v1/PollResponseEvent.js"
);
const { logger } = await import("matrix-js-sdk/lib/logger.js");
logger.setLevel("warn");

const args = JSON.parse(process.argv[2]);
const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");

const anonymous = sdk.createClient({ baseUrl: args.homeserver });
const login = await anonymous.loginRequest({
  type: "m.login.password",
  identifier: { type: "m.id.user", user: args.user },
  password: args.password,
  device_id: args.device,
  initial_device_display_name: "Element (matrix-js-sdk)",
});
const client = sdk.createClient({
  baseUrl: args.homeserver,
  userId: login.user_id,
  accessToken: login.access_token,
  deviceId: login.device_id,
});
await client.initRustCrypto({ useIndexedDB: false });

const shown = new Set();
function show(event) {
  if (event.isBeingDecrypted() || event.isDecryptionFailure() || shown.has(event.getId())) return;
  if (event.getType() === "m.room.encrypted") return;
  shown.add(event.getId());
  const seen = {
    room: event.getRoomId(),
    id: event.getId(),
    type: event.getType(),
    sender: event.getSender(),
    content: event.getContent(),
    relates_to: event.getWireContent()["m.relates_to"] ?? null,
    thread_root: event.threadRootId ?? null,
    encrypted: event.isEncrypted(),
  };
  if (event.getType() === "org.matrix.msc3381.poll.start") {
    try {
      const poll = new PollStartEvent({ type: event.getType(), content: event.getContent() });
      seen.poll = {
        question: poll.question.text,
        answers: poll.answers.map((a) => ({ id: a.id, text: a.text })),
        max: poll.maxSelections,
        kind: poll.rawKind,
      };
    } catch (error) {
      seen.poll_error = String(error);
    }
  }
  print({ event: seen });
}

client.on(sdk.MatrixEventEvent.Decrypted, (event) => show(event));
client.on(sdk.RoomEvent.Timeline, (event, _room, toStart) => {
  if (!toStart) show(event);
});
client.on(sdk.RoomMemberEvent.Membership, (_event, member) => {
  if (member.userId === client.getUserId() && member.membership === "invite") {
    client.joinRoom(member.roomId).catch((error) => print({ error: `join: ${error}` }));
  }
});

const prepared = new Promise((resolve) => {
  client.on(sdk.ClientEvent.Sync, (state) => { if (state === "PREPARED") resolve(); });
});
await client.startClient({ initialSyncLimit: 10, threadSupport: true });
await prepared;
const crypto = client.getCrypto();
await crypto.bootstrapCrossSigning({
  authUploadDeviceSigningKeys: async (makeRequest) => {
    await makeRequest({
      type: "m.login.password",
      identifier: { type: "m.id.user", user: login.user_id },
      password: args.password,
    });
  },
});
const status = await crypto.getCrossSigningStatus();
const own = await crypto.getDeviceVerificationStatus(login.user_id, login.device_id);
print({
  ready: true,
  user: login.user_id,
  device: login.device_id,
  cross_signed: status.publicKeysOnDevice && Boolean(own?.crossSigningVerified),
});

// A room is written to once this client has joined it and read its encryption state, as
// Element's composer waits for the room to load: until then the SDK cannot encrypt.
async function joined(roomId) {
  for (let tries = 0; tries < 1200; tries++) {
    const room = client.getRoom(roomId);
    if (room?.getMyMembership() === "join" && (await crypto.isEncryptionEnabledInRoom(roomId))) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${roomId} not joined and encrypted after 60 s`);
}

async function handle(request) {
  await joined(request.room);
  if (request.op === "send") {
    const content = { msgtype: "m.text", body: request.body };
    const sent = await client.sendMessage(request.room, request.thread ?? null, content);
    return { event_id: sent.event_id };
  }
  if (request.op === "vote") {
    const { type, content } = PollResponseEvent.from([request.answer], request.poll).serialize();
    const sent = await client.sendEvent(request.room, type, content);
    return { event_id: sent.event_id };
  }
  throw new Error(`no such request: ${request.op}`);
}

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const request = JSON.parse(line);
  try {
    print({ id: request.id, ...(await handle(request)) });
  } catch (error) {
    print({ id: request.id, error: String(error) });
  }
}
client.stopClient();
process.exit(0);
