import type { Request, RequestHandler } from 'express';
import multer from 'multer';
import { HttpError } from './errors.js';

/** Multipart with one CSV file in field `file`, spooled to `dir` (big dataset uploads never sit in memory). */
export function diskCsvUpload(dir: string, maxBytes: number): RequestHandler {
  return multer({
    dest: dir,
    limits: { fileSize: maxBytes, files: 1, fields: 8, fieldSize: 64 * 1024, parts: 12 },
  }).single('file');
}

/** Multipart with one CSV file in field `file`, kept in memory (prediction inputs are small). */
export function memoryCsvUpload(maxBytes: number): RequestHandler {
  return multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: maxBytes, files: 1, fields: 8, fieldSize: 64 * 1024, parts: 12 },
  }).single('file');
}

/** The uploaded file of a multipart request, or a 400 naming the field. */
export function requireFile(req: Request): Express.Multer.File {
  if (!req.file) {
    throw new HttpError(400, 'INVALID_REQUEST', 'the multipart body has no file field "file" with the CSV');
  }
  return req.file;
}

/**
 * The request body as a stream of chunks that fails with 413 once more than `maxBytes` arrived.
 * A `Content-Length` above the limit is refused before anything is read. `exceeded()` tells a
 * caller whose consumer wrapped the failure that the limit was the cause.
 */
export function limitedBody(
  req: Request,
  maxBytes: number,
): { body: AsyncIterable<Uint8Array>; exceeded: () => boolean } {
  const tooLarge = () =>
    new HttpError(413, 'PAYLOAD_TOO_LARGE', `the request body is larger than the limit of ${maxBytes} bytes`);
  const declared = Number(req.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  let over = false;
  async function* read(): AsyncGenerator<Uint8Array> {
    let seen = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      seen += chunk.length;
      if (seen > maxBytes) {
        over = true;
        throw tooLarge();
      }
      yield chunk;
    }
  }
  return { body: read(), exceeded: () => over };
}
