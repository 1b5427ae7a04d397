import { describe, expect, it } from 'vitest';
import { ownPath, sameOriginPath } from './same-origin.ts';

describe('same-origin redirects', () => {
  it.each([
    // ?next= and form fields arrive decoded: '?next=/%09/host' is '/\t/host', which a browser reads as '//host'
    '//evil.example/x',
    '/\\evil.example',
    '/\t/evil.example',
    '/\n/x',
    '/\r\n/x',
    'https://evil.example/',
    'javascript:alert(1)',
    'screen',
    '',
    '/\u0000/x',
    '/\u007f/x',
    new URLSearchParams('next=/%09/evil.example').get('next')
  ])('refuses %j', (next) => {
    expect(sameOriginPath(next)).toBe('/screen');
  });

  it.each([
    ['/screen/330600000000', '/screen/330600000000'],
    ['/screen/330600000000/330602000000?period=2026-09#map', '/screen/330600000000/330602000000?period=2026-09#map'],
    ['/screen/../login', '/login'],
    ['/a%2F%2Fb', '/a%2F%2Fb'],
    ['/%09/x', '/%09/x'] // still encoded: a path on this site
  ])('keeps %j', (next, kept) => {
    expect(sameOriginPath(next)).toBe(kept);
  });

  it('collapses leading slashes of a request path', () => {
    expect(ownPath('//evil.example/screen')).toBe('/evil.example/screen');
    expect(ownPath('/\\evil.example')).toBe('/evil.example');
    expect(ownPath('/screen')).toBe('/screen');
  });
});
