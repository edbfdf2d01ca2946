/**
 * Reader and writer of the safetensors format (Hugging Face): an 8-byte little-endian header
 * length, a JSON header naming each tensor's dtype, shape and byte range, then the raw
 * little-endian data. Float32 tensors only: what a classification head saved from PyTorch
 * (`nn.Linear`'s `weight` [outputs × hidden] and `bias` [outputs]) holds.
 */
import { InputError } from '../errors.ts';

export interface Float32Tensor {
  shape: number[];
  data: Float32Array;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export function readSafetensors(bytes: Uint8Array, file: string): Map<string, Float32Tensor> {
  if (bytes.length < 8) throw new InputError(file, {}, 'not a safetensors file (shorter than its header length)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length) throw new InputError(file, {}, 'not a safetensors file (header length past the end)');
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as typeof header;
  } catch (e) {
    throw new InputError(file, {}, `not a safetensors file (header: ${(e as Error).message})`);
  }
  const base = 8 + headerLength;
  const out = new Map<string, Float32Tensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: [start, end] } = entry as HeaderEntry;
    if (dtype !== 'F32') throw new InputError(file, {}, `tensor "${name}" is ${dtype}; only F32 is read`);
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - start !== 4 * count || base + end > bytes.length) throw new InputError(file, {}, `tensor "${name}": its byte range does not fit its shape`);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(base + start + 4 * i, true);
    out.set(name, { shape, data });
  }
  return out;
}

/** A safetensors file of float32 tensors, in the order given. */
export function writeSafetensors(tensors: Record<string, Float32Tensor>): Uint8Array {
  const header: Record<string, HeaderEntry> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * t.data.length] };
    offset += 4 * t.data.length;
  }
  let json = JSON.stringify(header);
  // The data starts 8-byte aligned, as the format's own writer pads it.
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of Object.values(tensors)) {
    for (const v of t.data) {
      view.setFloat32(at, v, true);
      at += 4;
    }
  }
  return out;
}
