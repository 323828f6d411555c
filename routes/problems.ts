/** RFC 9457 problem details: the one error shape of the JSON API. */

export interface FieldError {
  /** The input field, as the client named it (`pdf_link`, `Idempotency-Key`, `limit`). */
  field: string;
  /** JSON Pointer into the request body, for body fields. */
  pointer?: string;
  detail: string;
}

export interface ProblemInit {
  status: number;
  title: string;
  detail: string;
  /** A problem type under /problems/, when clients may want to branch on it. */
  type?: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
  extra?: Record<string, unknown>;
}

/** A request the API refuses, thrown by routes and middleware and rendered once by onError. */
export class HttpProblem extends Error {
  override name = "HttpProblem";
  constructor(readonly init: ProblemInit) {
    super(init.detail);
  }
}

/** Builds the 422 problem for a list of field errors. */
export function validationProblem(errors: FieldError[]): HttpProblem {
  const detail = errors.map((e) => `${e.field}: ${e.detail}`).join("; ");
  return new HttpProblem({
    status: 422,
    type: "/problems/validation",
    title: "The request has invalid fields",
    detail,
    errors,
  });
}

/** The JSON body of a problem response; `success`/`message` keep seed clients working. */
export function problemBody(
  init: ProblemInit,
  instance: string,
  requestId: string,
): Record<string, unknown> {
  return {
    type: init.type ?? "about:blank",
    title: init.title,
    status: init.status,
    detail: init.detail,
    instance,
    ...(init.errors ? { errors: init.errors } : {}),
    ...init.extra,
    request_id: requestId,
    success: false,
    message: init.detail,
  };
}
