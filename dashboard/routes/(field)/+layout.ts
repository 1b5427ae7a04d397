// The field pages are server-rendered HTML and forms: no JavaScript is shipped, so they work the same
// on an old tablet with a weak signal, and every action is a plain form post.
export const csr = false;
