/** A download answered as it is read: each chunk is sent as soon as it is made, so memory stays flat. */
export function download(chunks: AsyncIterable<string>, { filename, contentType }: { filename: string; contentType: string }): Response {
  const encoder = new TextEncoder();
  const iterator = chunks[Symbol.asyncIterator]();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(encoder.encode(value));
    },
    async cancel() {
      await iterator.return?.();
    },
  });
  return new Response(body, {
    headers: {
      "content-type": contentType,
      // The file name is built from ids and fixed words only, so it needs no quoting beyond this.
      "content-disposition": `attachment; filename="${filename}"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}
