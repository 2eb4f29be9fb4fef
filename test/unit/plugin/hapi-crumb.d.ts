// @hapi/crumb ships no type declarations; the test needs only its plugin object.
declare module '@hapi/crumb' {
  const crumb: { plugin: import('@hapi/hapi').Plugin<{ restful?: boolean }> };
  export default crumb;
}
