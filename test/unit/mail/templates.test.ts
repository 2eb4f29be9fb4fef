import { DEFAULT_TEMPLATES, escapeHtml, MailRenderer, mailLink } from '../../../src/mail';

const values = {
  site: 'app.example.com',
  link: 'https://app.example.com/reset-password?token=a.b&x=1',
  expires: '30 minutes',
  name: '<script>alert("x")</script>',
};

test('every default kind renders subject, text and HTML with the values filled in', () => {
  const r = new MailRenderer();
  for (const kind of Object.keys(DEFAULT_TEMPLATES)) {
    const m = r.render(kind, { ...values, time: '2026-12-01 20:00 UTC', resetLink: values.link });
    expect(m.subject.length).toBeGreaterThan(5);
    expect(m.text).not.toMatch(/\{\{/);
    expect(m.html).not.toMatch(/\{\{/);
    expect(m.text).toContain('app.example.com');
  }
  const reset = r.render('reset', values);
  expect(reset.text).toContain(`open this link within 30 minutes:\n${values.link}\n`);
  // The link in HTML is escaped as an attribute value: & and = become entities.
  expect(reset.html).toContain(
    '<a href="https://app.example.com/reset-password?token&#61;a.b&amp;x&#61;1">',
  );
});

test('values are HTML-escaped in HTML only; a subject stays one line', () => {
  const r = new MailRenderer({
    hello: {
      subject: 'Hi {{name}}\r\nBcc: x@evil.example',
      text: 'Hi {{name}}',
      html: '<b>{{name}}</b> {{missing}}',
    },
  });
  const m = r.render('hello', values);
  expect(m.html).toBe('<b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</b> ');
  expect(m.text).toBe('Hi <script>alert("x")</script>');
  expect(m.subject).toBe('Hi <script>alert("x")</script> Bcc: x@evil.example');
  expect(m.subject).not.toMatch(/[\r\n]/);
});

test('the host app replaces a kind with strings or a function; the others stay Holdfast’s', () => {
  const r = new MailRenderer({
    reset: (v) => ({
      subject: `Reset at ${v.site}\n`,
      text: `go ${v.link}`,
      html: `<a href="${escapeHtml(v.link)}">go</a>`,
    }),
  });
  expect(r.render('reset', values)).toEqual({
    subject: 'Reset at app.example.com ',
    text: `go ${values.link}`,
    html: '<a href="https://app.example.com/reset-password?token&#61;a.b&amp;x&#61;1">go</a>',
  });
  expect(r.render('password-changed', { ...values, time: 't', resetLink: 'l' }).subject).toBe(
    'Your password was changed',
  );
});

test('a template that is neither strings nor a function, or an unknown kind, is refused', () => {
  expect(() => new MailRenderer({ reset: { subject: 's', text: 't' } as never })).toThrow(
    'mailTemplates.reset must be { subject, text, html } strings or a function returning them',
  );
  expect(() => new MailRenderer().render('nope', {})).toThrow('no mail template for kind nope');
  expect(new MailRenderer().render('reset', { ['__proto__']: 'x' } as never).text).not.toContain(
    'undefined',
  );
});

test('mailLink joins the link base, the path and an encoded query', () => {
  expect(mailLink('https://app.example.com/base', '/reset-password', { token: 'a.b+c/d' })).toBe(
    'https://app.example.com/base/reset-password?token=a.b%2Bc%2Fd',
  );
  expect(mailLink('https://app.example.com', '/login')).toBe('https://app.example.com/login');
});
