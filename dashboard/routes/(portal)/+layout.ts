// The portal is server-rendered HTML and forms: it ships no JavaScript at all, so it works the same
// on a cheap phone with scripts off, and every page is quick on a slow network.
export const csr = false;
