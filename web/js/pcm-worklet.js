// AudioWorklet processor: microphone audio at the context's rate -> 16 kHz mono PCM16 chunks.
//
// Runs on the audio rendering thread. Channels are averaged to mono, low-pass filtered below the
// new Nyquist frequency (a windowed-sinc FIR, so 48 kHz speech does not alias into the 16 kHz
// band Transcribe hears), then resampled by linear interpolation. Every `chunkSamples` output
// samples (100 ms at 16 kHz) go to the main thread as little-endian 16-bit PCM with their level.

const FIR_TAPS = 63;

function lowPass(inputRate, outputRate) {
  if (inputRate <= outputRate) return null;
  const cutoff = (0.45 * outputRate) / inputRate; // cycles per input sample
  const middle = (FIR_TAPS - 1) / 2;
  const taps = new Float32Array(FIR_TAPS);
  let sum = 0;
  for (let i = 0; i < FIR_TAPS; i += 1) {
    const x = i - middle;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    const blackman = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (FIR_TAPS - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (FIR_TAPS - 1));
    taps[i] = sinc * blackman;
    sum += taps[i];
  }
  for (let i = 0; i < FIR_TAPS; i += 1) taps[i] /= sum;
  return taps;
}

class Pcm16Capture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const { targetRate = 16000, chunkSamples = 1600 } = options.processorOptions || {};
    this.step = sampleRate / targetRate; // input samples per output sample
    this.taps = lowPass(sampleRate, targetRate);
    this.history = new Float32Array(FIR_TAPS);
    this.historyAt = 0;
    this.filtered = [];
    this.position = 0;
    this.chunkSamples = chunkSamples;
    this.chunk = new ArrayBuffer(chunkSamples * 2);
    this.view = new DataView(this.chunk);
    this.fill = 0;
    this.sumSquares = 0;
    this.peak = 0;
  }

  filter(sample) {
    if (!this.taps) return sample;
    this.history[this.historyAt] = sample;
    let acc = 0;
    let index = this.historyAt;
    for (let i = 0; i < FIR_TAPS; i += 1) {
      acc += this.taps[i] * this.history[index];
      index = index === 0 ? FIR_TAPS - 1 : index - 1;
    }
    this.historyAt = (this.historyAt + 1) % FIR_TAPS;
    return acc;
  }

  emit(sample) {
    const clamped = Math.max(-1, Math.min(1, sample));
    this.view.setInt16(this.fill * 2, clamped < 0 ? clamped * 0x8000 : clamped * 0x7fff, true);
    this.sumSquares += clamped * clamped;
    this.peak = Math.max(this.peak, Math.abs(clamped));
    this.fill += 1;
    if (this.fill === this.chunkSamples) {
      const rms = Math.sqrt(this.sumSquares / this.chunkSamples);
      this.port.postMessage({ pcm: this.chunk, rms, peak: this.peak }, [this.chunk]);
      this.chunk = new ArrayBuffer(this.chunkSamples * 2);
      this.view = new DataView(this.chunk);
      this.fill = 0;
      this.sumSquares = 0;
      this.peak = 0;
    }
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const frames = channels[0].length;
    for (let i = 0; i < frames; i += 1) {
      let mixed = 0;
      for (let c = 0; c < channels.length; c += 1) mixed += channels[c][i];
      this.filtered.push(this.filter(mixed / channels.length));
    }
    while (this.position + 1 < this.filtered.length) {
      const at = Math.floor(this.position);
      const fraction = this.position - at;
      this.emit(this.filtered[at] * (1 - fraction) + this.filtered[at + 1] * fraction);
      this.position += this.step;
    }
    const consumed = Math.floor(this.position);
    this.filtered.splice(0, consumed);
    this.position -= consumed;
    return true;
  }
}

registerProcessor("pcm16-capture", Pcm16Capture);
