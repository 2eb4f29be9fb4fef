// @hapi/cookie ships no type declarations; the test needs only its plugin object.
declare module '@hapi/cookie' {
  const plugin: import('@hapi/hapi').Plugin<unknown>;
  export default plugin;
}
