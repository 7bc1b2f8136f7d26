/**
 * pgvector's binary wire format (int16 dimensions, int16 unused, float32 big-endian values).
 * `pg` sends Buffers as binary parameters, which is ~10x faster than the text form for
 * 512-dimensional vectors (DESIGN.md section 8). Use with a `$n::vector` cast.
 */
export function vectorParam(vector: Float32Array | readonly number[]): Buffer {
  const buffer = Buffer.allocUnsafe(4 + 4 * vector.length);
  buffer.writeInt16BE(vector.length, 0);
  buffer.writeInt16BE(0, 2);
  for (let i = 0; i < vector.length; i++) buffer.writeFloatBE(vector[i]!, 4 + 4 * i);
  return buffer;
}

/** Cosine similarity of two L2-normalised vectors. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}
