/**
 * The /user/lib script: the Angular 1.x auth client every OpenSpending
 * frontend loads (os-packager, os-admin, os-viewer, os-explorer). Written
 * here from the documented contract (module, service and method names; the
 * token in localStorage['ngStorage-jwt'] as a JSON string); the base URL is
 * baked in when served, because no client calls setBaseUrl.
 *
 * It is a classic script (no modules), ES5 only, and needs a global
 * `angular` when it runs, like the original.
 */

/** The script text with `baseUrl` baked in. */
export function renderAuthLib(baseUrl: string): string {
  // JSON is valid JS; '<' escaped so the value can never close a <script>.
  const literal = JSON.stringify(baseUrl).replace(/</g, '\\u003c');
  return SCRIPT.replace('__OS_BASE_URL__', () => literal);
}

const SCRIPT = `/* OpenSpending auth client (authClient, authClient.services, ngStorage-compatible storage) */
(function (window) {
  'use strict';
  var angular = window.angular;
  if (!angular) {
    if (window.console) window.console.error('OpenSpending auth client: load Angular 1.x before /user/lib');
    return;
  }

  /* Minimal ngStorage: $localStorage / $sessionStorage are plain objects whose
     properties persist as storage['ngStorage-' + key] = JSON.stringify(value). */
  var PREFIX = 'ngStorage-';
  function storageService(kind) {
    return ['$rootScope', '$window', function ($rootScope, $window) {
      var storage;
      try { storage = $window[kind]; storage.getItem(PREFIX); } catch (e) { storage = null; }
      var data = {};
      var saved = {};
      function load() {
        if (!storage) return;
        for (var i = 0; i < storage.length; i++) {
          var name = storage.key(i);
          if (name && name.indexOf(PREFIX) === 0) {
            var key = name.slice(PREFIX.length);
            var text = storage.getItem(name);
            try { data[key] = angular.fromJson(text); } catch (e) { data[key] = text; }
            saved[key] = text;
          }
        }
      }
      function publicKeys() {
        var out = [];
        for (var k in data) if (Object.prototype.hasOwnProperty.call(data, k) && k.charAt(0) !== '$') out.push(k);
        return out;
      }
      function flush() {
        if (!storage) return;
        var keys = publicKeys();
        var seen = {};
        for (var i = 0; i < keys.length; i++) {
          var key = keys[i];
          seen[key] = true;
          var value = data[key];
          if (value === undefined) continue;
          var text = angular.toJson(value);
          if (saved[key] !== text) {
            try { storage.setItem(PREFIX + key, text); saved[key] = text; } catch (e) { /* quota or private mode */ }
          }
        }
        for (var old in saved) {
          if (Object.prototype.hasOwnProperty.call(saved, old) && (!seen[old] || data[old] === undefined)) {
            storage.removeItem(PREFIX + old);
            delete saved[old];
          }
        }
      }
      data.$default = function (defaults) {
        for (var k in defaults) if (Object.prototype.hasOwnProperty.call(defaults, k) && data[k] === undefined) data[k] = angular.copy(defaults[k]);
        flush();
        return data;
      };
      data.$reset = function (defaults) {
        var keys = publicKeys();
        for (var i = 0; i < keys.length; i++) delete data[keys[i]];
        return data.$default(defaults || {});
      };
      load();
      $rootScope.$watch(flush);
      if ($window.addEventListener) {
        $window.addEventListener('beforeunload', flush);
        $window.addEventListener('storage', function (event) {
          if (!event.key || event.key.indexOf(PREFIX) !== 0 || event.storageArea !== storage) return;
          var key = event.key.slice(PREFIX.length);
          $rootScope.$applyAsync(function () {
            if (event.newValue === null) { delete data[key]; delete saved[key]; return; }
            try { data[key] = angular.fromJson(event.newValue); } catch (e) { data[key] = event.newValue; }
            saved[key] = event.newValue;
          });
        });
      }
      return data;
    }];
  }
  try {
    angular.module('ngStorage');
  } catch (e) {
    angular.module('ngStorage', [])
      .factory('$localStorage', storageService('localStorage'))
      .factory('$sessionStorage', storageService('sessionStorage'));
  }

  angular.module('authClient.config', []).value('authClient.config', { debug: false });

  angular.module('authClient.services', ['ngStorage'])
    .service('baseUrl', function () {
      var url = __OS_BASE_URL__;
      this.getBaseUrl = function () { return url; };
      this.setBaseUrl = function (value) { url = String(value).replace(/\\/+$/, ''); };
    })
    .service('authenticate', ['$http', '$q', '$location', '$window', '$localStorage', 'baseUrl',
      function ($http, $q, $location, $window, $localStorage, baseUrl) {
        /* ?jwt= from Angular's $location, else from the real query string
           (apps without html5Mode see only the hash part in $location). */
        var LOGGED_OUT_KEY = 'osAuth-loggedOutJwt';
        function realQueryToken() {
          var match = /[?&]jwt=([^&#]*)/.exec($window.location.search || '');
          if (!match) return undefined;
          try { return decodeURIComponent(match[1].replace(/\\+/g, ' ')) || undefined; } catch (e) { return undefined; }
        }
        function tokenFromUrl() {
          var fromLocation = $location.search().jwt;
          if (typeof fromLocation === 'string' && fromLocation) return fromLocation;
          var fromQuery = realQueryToken();
          var loggedOut;
          try { loggedOut = $window.sessionStorage.getItem(LOGGED_OUT_KEY); } catch (e) { loggedOut = null; }
          return fromQuery && fromQuery !== loggedOut ? fromQuery : undefined;
        }
        this.getToken = function () {
          return $localStorage.jwt;
        };
        this.check = function (next) {
          var token = $localStorage.jwt;
          if (!token) {
            token = tokenFromUrl();
            if (token) $localStorage.jwt = token;
          }
          var params = { next: next };
          if (token) params.jwt = token;
          return $q(function (resolve, reject) {
            $http.get(baseUrl.getBaseUrl() + '/user/check', { params: params, withCredentials: true })
              .then(function (response) {
                var data = response.data || {};
                if (data.authenticated) {
                  resolve({ token: token, profile: data.profile });
                } else {
                  delete $localStorage.jwt;
                  reject(data.providers);
                }
              }, function (response) {
                /* The original never settled here; we reject so apps can stop waiting. */
                reject({ error: 'HTTP ' + response.status, status: response.status });
              });
          });
        };
        this.login = function (url, target) {
          return $window.open(url, target);
        };
        this.logout = function () {
          delete $localStorage.jwt;
          $location.search('jwt', null);
          /* Without html5Mode Angular keeps the page's real query (and its ?jwt=),
             so remember that token as logged out, or the next check() would
             log the user straight back in. */
          var fromQuery = realQueryToken();
          if (fromQuery) {
            try { $window.sessionStorage.setItem(LOGGED_OUT_KEY, fromQuery); } catch (e) { /* storage unavailable */ }
          }
        };
      }])
    .service('authorize', ['$http', '$q', 'baseUrl', function ($http, $q, baseUrl) {
      this.check = function (token, service) {
        return $q(function (resolve, reject) {
          $http.get(baseUrl.getBaseUrl() + '/user/authorize', {
            params: { jwt: token, service: service },
            withCredentials: false
          }).then(function (response) {
            resolve(response.data);
          }, function () {
            reject({});
          });
        });
      };
    }]);

  angular.module('authClient', ['authClient.config', 'authClient.services']);
})(window);
`;
