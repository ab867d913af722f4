// The phone's motion sensors through DeviceMotionEvent, as motionlab channels. The browser gives
// acceleration in m/s² and rotation rate in deg/s; the columns keep those units and the upload
// declares them (sensor channels), so the server converts, never guesses.
// rotationRate's alpha turns about z, beta about x, gamma about y (W3C DeviceOrientation).
const COLUMNS = [
  ["accelX", "accelerometer.x:m/s2", (e) => e.accelerationIncludingGravity?.x],
  ["accelY", "accelerometer.y:m/s2", (e) => e.accelerationIncludingGravity?.y],
  ["accelZ", "accelerometer.z:m/s2", (e) => e.accelerationIncludingGravity?.z],
  ["userAccelX", "user_acceleration.x:m/s2", (e) => e.acceleration?.x],
  ["userAccelY", "user_acceleration.y:m/s2", (e) => e.acceleration?.y],
  ["userAccelZ", "user_acceleration.z:m/s2", (e) => e.acceleration?.z],
  ["rotX", "gyroscope.x:deg/s", (e) => e.rotationRate?.beta],
  ["rotY", "gyroscope.y:deg/s", (e) => e.rotationRate?.gamma],
  ["rotZ", "gyroscope.z:deg/s", (e) => e.rotationRate?.alpha],
];
// Live classification takes the model's canonical units (g, rad/s): the factor per unit.
export const TO_CANONICAL = { "m/s2": 1 / 9.80665, "deg/s": Math.PI / 180 };
const present = (value) => typeof value === "number" && Number.isFinite(value);

// Where motion sensors cannot work, the sentence that says why and what to do; else null.
export function sensorProblem() {
  if (!window.isSecureContext) {
    return `This page is open over plain HTTP (${location.origin}). Phones give motion sensors ` +
      "only to HTTPS pages: start the server with `motionlab serve --tls-cert cert.pem " +
      "--tls-key key.pem` and open https://…/collect (README: Record from a phone).";
  }
  if (typeof DeviceMotionEvent === "undefined") {
    return "This browser has no motion sensors (DeviceMotionEvent): open the page on a phone.";
  }
  return null;
}

// iOS asks for motion access, only from a tap (call this inside the click handler); other
// browsers grant it with the page. Resolves to null, or the sentence to show when refused.
export async function askPermission() {
  if (typeof DeviceMotionEvent.requestPermission !== "function") return null;
  let answer;
  try {
    answer = await DeviceMotionEvent.requestPermission();
  } catch (error) {
    answer = `refused (${error.message})`;
  }
  if (answer === "granted") return null;
  return "Motion access was refused, so nothing can be recorded. On an iPhone: close this tab, " +
    "open the page again and tap Allow when asked (Settings › Apps › Safari › Motion & " +
    "Orientation Access must be on).";
}

// Listens to devicemotion; onRow(row, event) for each event with every chosen channel present.
export class MotionReader {
  constructor(onRow) {
    this.onRow = onRow;
    this.columns = null; // the channels the first event carries (a phone may lack a gyroscope)
    this.listener = (event) => this.read(event);
  }
  start() {
    window.addEventListener("devicemotion", this.listener);
  }
  stop() {
    window.removeEventListener("devicemotion", this.listener);
  }
  read(event) {
    // A browser without sensors fires one event of nulls (Chromium does): wait for values.
    if (!this.columns) {
      const carried = COLUMNS.filter(([, , value]) => present(value(event)));
      if (!carried.length) return;
      this.columns = carried;
    }
    const row = this.columns.map(([, , value]) => value(event));
    if (row.length && row.every(present)) this.onRow(row, event);
  }
  get names() {
    return (this.columns ?? []).map(([name]) => name);
  }
  get channels() {
    return Object.fromEntries((this.columns ?? []).map(([name, channel]) => [name, channel]));
  }
}

// The rate the device says it delivers: the median of DeviceMotionEvent.interval (ms). Older iOS
// Safari gave the interval in seconds: no sensor delivers faster than 1 kHz, so below 1 it is s.
export function deliveredRateHz(intervals) {
  const sorted = intervals.filter((v) => v > 0).sort((a, b) => a - b);
  if (!sorted.length) return null;
  const median = sorted[Math.floor(sorted.length / 2)];
  const intervalMs = median < 1 ? median * 1000 : median;
  return Math.round((1000 / intervalMs) * 100) / 100;
}

// One recording: rows of [timestamp s, …channels], the device's rate, and what each column is.
export class Recording {
  constructor() {
    this.samples = [];
    this.intervals = [];
    this.reader = new MotionReader((row, event) => this.add(row, event));
  }
  add(row, event) {
    this.t0 ??= event.timeStamp;
    this.samples.push([(event.timeStamp - this.t0) / 1000, ...row]);
    this.intervals.push(event.interval);
  }
  get seconds() {
    return this.samples.length ? this.samples[this.samples.length - 1][0] : 0;
  }
  session({ id, activity, subject }) {
    return {
      id,
      activity,
      ...(subject ? { subject } : {}),
      sample_rate_hz: deliveredRateHz(this.intervals),
      columns: ["timestamp", ...this.reader.names],
      channels: this.reader.channels,
      samples: this.samples,
    };
  }
}
